package rtspserver_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"github.com/edgeprivacy/edge/internal/rtspserver"
)

var creds = rtspserver.Credentials{User: "viewer", Password: "s3cret"}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func request(t *testing.T, method base.Method, authz string) *base.Request {
	t.Helper()
	u, err := base.ParseURL("rtsp://127.0.0.1:8554/lobby")
	if err != nil {
		t.Fatal(err)
	}
	req := &base.Request{Method: method, URL: u, Header: base.Header{}}
	if authz != "" {
		req.Header["Authorization"] = base.HeaderValue{authz}
	}
	return req
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// digest answers a challenge as an RTSP client does.
func digest(user, pass, realm, nonce, uri string, method base.Method) string {
	resp := md5Hex(md5Hex(user+":"+realm+":"+pass) + ":" + nonce + ":" + md5Hex(string(method)+":"+uri))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"`, user, realm, nonce, uri, resp)
}

func TestVerify(t *testing.T) {
	const nonce, uri = "0123456789abcdef", "rtsp://127.0.0.1:8554/lobby"
	for _, c := range []struct {
		name  string
		authz string
		want  bool
	}{
		{"basic right", basic("viewer", "s3cret"), true},
		{"basic wrong user", basic("viewer2", "s3cret"), false},
		{"basic wrong password", basic("viewer", "s3cres"), false},
		{"basic empty password", basic("viewer", ""), false},
		{"basic password prefix", basic("viewer", "s3cre"), false},
		{"basic password longer", basic("viewer", "s3cret!"), false},
		{"basic empty user", basic("", "s3cret"), false},
		{"digest right", digest("viewer", "s3cret", rtspserver.Realm, nonce, uri, base.Describe), true},
		{"digest wrong user", digest("viewer2", "s3cret", rtspserver.Realm, nonce, uri, base.Describe), false},
		{"digest wrong password", digest("viewer", "nope", rtspserver.Realm, nonce, uri, base.Describe), false},
		{"digest empty password", digest("viewer", "", rtspserver.Realm, nonce, uri, base.Describe), false},
		{"digest old nonce", digest("viewer", "s3cret", rtspserver.Realm, "ffffffffffffffff", uri, base.Describe), false},
		{"digest other realm", digest("viewer", "s3cret", "IPCAM", nonce, uri, base.Describe), false},
		{"digest other uri", digest("viewer", "s3cret", rtspserver.Realm, nonce, "rtsp://127.0.0.1:8554/other", base.Describe), false},
		{"digest sha-256 refused", digest("viewer", "s3cret", rtspserver.Realm, nonce, uri, base.Describe) + `, algorithm="SHA-256"`, false},
		{"none", "", false},
		{"garbage", "Bearer abc", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := creds.Verify(request(t, base.Describe, c.authz), nonce); got != c.want {
				t.Errorf("Verify = %v, want %v", got, c.want)
			}
		})
	}
}

// TestVerifyComparesEveryField proves the check has no early return: with
// a wrong user name the password (Basic) or the response (Digest) is still
// compared, through the constant-time comparison, against the configured one.
func TestVerifyComparesEveryField(t *testing.T) {
	const nonce, uri = "0123456789abcdef", "rtsp://127.0.0.1:8554/lobby"
	var calls [][2]string
	restore := rtspserver.SetEqual(func(a, b string) int {
		calls = append(calls, [2]string{a, b})
		if a == b {
			return 1
		}
		return 0
	})
	defer restore()
	wantDigest := md5Hex(md5Hex("viewer:"+rtspserver.Realm+":s3cret") + ":" + nonce + ":" + md5Hex("DESCRIBE:"+uri))
	for _, c := range []struct {
		name  string
		authz string
		want  [][2]string // comparisons that must have happened
	}{
		{"basic wrong user", basic("mallory", "guess"), [][2]string{{"mallory", "viewer"}, {"guess", "s3cret"}}},
		{"basic wrong password", basic("viewer", "guess"), [][2]string{{"viewer", "viewer"}, {"guess", "s3cret"}}},
		{"basic both right", basic("viewer", "s3cret"), [][2]string{{"viewer", "viewer"}, {"s3cret", "s3cret"}}},
		{"digest wrong user", digest("mallory", "guess", rtspserver.Realm, nonce, uri, base.Describe),
			[][2]string{{"mallory", "viewer"}, {md5Hex(md5Hex("mallory:"+rtspserver.Realm+":guess") + ":" + nonce + ":" + md5Hex("DESCRIBE:"+uri)), wantDigest}, {nonce, nonce}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls = nil
			creds.Verify(request(t, base.Describe, c.authz), nonce)
			for _, w := range c.want {
				if !slices.Contains(calls, w) {
					t.Errorf("comparison %q not made; made %q", w, calls)
				}
			}
		})
	}
}

func BenchmarkVerifyBasic(b *testing.B) {
	u, _ := base.ParseURL("rtsp://127.0.0.1:8554/lobby")
	req := &base.Request{Method: base.Describe, URL: u, Header: base.Header{"Authorization": base.HeaderValue{basic("viewer", "guess")}}}
	for b.Loop() {
		creds.Verify(req, "n")
	}
}
