package rtspserver

import (
	"crypto/md5" // RTSP Digest is defined over MD5; it is what ffmpeg and cameras speak
	"encoding/hex"
	"regexp"

	"github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/headers"

	"github.com/edgeprivacy/edge/internal/secret"
)

// Realm is the realm announced in challenges and required in Digest answers.
const Realm = "edge"

// Credentials are the user name and password a server requires. The zero
// value requires none.
type Credentials struct {
	User, Password string
}

// Required reports whether clients must authenticate.
func (c Credentials) Required() bool { return c.User != "" }

// equal is the comparison every secret-dependent check goes through
// (secret.Equal: constant time whatever the lengths), 1 when a and b are
// equal and 0 otherwise, so results combine with & and no field is skipped.
// Tests replace it to prove that.
var equal = func(a, b string) int {
	if secret.Equal(a, b) {
		return 1
	}
	return 0
}

// Verify reports whether req carries c, by Basic or by Digest (MD5) with
// nonce, the challenge this connection was given. Every field is compared
// whatever the others gave: a wrong user name costs the same time as a
// wrong password.
func (c Credentials) Verify(req *base.Request, nonce string) bool {
	var h headers.Authorization
	if err := h.Unmarshal(req.Header["Authorization"]); err != nil {
		return false
	}
	switch h.Method {
	case headers.AuthMethodBasic:
		ok := equal(h.Username, c.User)
		ok &= equal(h.BasicPass, c.Password)
		return ok == 1
	case headers.AuthMethodDigest:
		if h.Algorithm != nil && *h.Algorithm != headers.AuthAlgorithmMD5 {
			return false // only MD5 is offered (SHA-256 keeps ffmpeg out)
		}
		// The expected answer is computed from our own user name, so a
		// wrong name fails the response compare as well as its own.
		want := md5Hex(md5Hex(c.User+":"+Realm+":"+c.Password) + ":" + nonce + ":" + md5Hex(string(req.Method)+":"+h.URI))
		ok := equal(h.Username, c.User)
		ok &= equal(h.Response, want)
		ok &= equal(h.Nonce, nonce)
		ok &= equal(h.Realm, Realm)
		if !uriMatches(req.URL.String(), h.URI, req.Method == base.Setup) {
			ok = 0
		}
		return ok == 1
	default:
		return false
	}
}

// challenge is the WWW-Authenticate header of a 401: Basic, and Digest
// (MD5) with nonce, which ffmpeg and gortsplib clients prefer.
func challenge(nonce string) base.HeaderValue {
	return auth.GenerateWWWAuthenticate([]auth.VerifyMethod{auth.VerifyMethodBasic, auth.VerifyMethodDigestMD5}, Realm, nonce)
}

// provided reports whether req carries credentials at all (a wrong answer is
// refused and the connection closed; a missing one is challenged).
func provided(req *base.Request) bool {
	var h headers.Authorization
	return h.Unmarshal(req.Header["Authorization"]) == nil && h.Username != ""
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

var controlAttr = regexp.MustCompile(`^(.+/)trackID=[0-9]+$`)

// uriMatches reports whether the URI a Digest answer was computed over is the
// request's. VLC answers a track's SETUP with the stream's base URL.
func uriMatches(want, got string, setup bool) bool {
	if got == want {
		return true
	}
	if m := controlAttr.FindStringSubmatch(want); setup && m != nil && got == m[1] {
		return true
	}
	return false
}
