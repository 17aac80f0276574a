package console

import (
	"context"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgeprivacy/edge/internal/secret"
)

type userKey struct{}

// userOf is who made the request: the basic-auth user, or "anonymous" on a
// loopback console without credentials.
func userOf(ctx context.Context) string {
	if u, ok := ctx.Value(userKey{}).(string); ok {
		return u
	}
	return "anonymous"
}

// guard lets a request through once it is authenticated and, if it changes
// something, once it is plainly from this console.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := s.cfg.HTTP
		user := "anonymous"
		if want.Username != "" {
			u, p, ok := r.BasicAuth()
			// Both comparisons always run: which one failed must not show.
			if userOK, passOK := secret.Equal(u, want.Username), secret.Equal(p, want.Password); !ok || !(userOK && passOK) {
				w.Header().Set("WWW-Authenticate", `Basic realm="edge console", charset="UTF-8"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			user = u
		} else if !anonymousHost(r.Host, want.AllowAnonymous) {
			// A page elsewhere that resolves its own name to this box (DNS
			// rebinding) arrives with that name in Host, so without
			// credentials no name but localhost is answered, even with
			// allow_anonymous: there an address typed as digits is.
			msg := "without credentials this console answers only to localhost, 127.0.0.1 or [::1]"
			if want.AllowAnonymous {
				msg = "without credentials this console answers only to an IP address or localhost (a name could be a DNS-rebinding page); open it by address or set http.username and http.password"
			}
			http.Error(w, msg, http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
				http.Error(w, "changes are accepted only from this console's own pages", http.StatusForbidden)
				return
			}
			if r.Method != http.MethodDelete {
				// A cross-site form can post text/plain without asking; JSON needs CORS, which is never granted.
				if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
					http.Error(w, "send the change as application/json", http.StatusUnsupportedMediaType)
					return
				}
			}
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// anonymousHost reports whether a request without credentials may be
// answered under the Host it names: loopback always, any IP address too when
// anonymous access is allowed, never another name.
func anonymousHost(hostport string, allowAnonymous bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || allowAnonymous)
}

func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host == host
}
