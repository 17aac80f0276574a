// Package redact hides credentials in URLs and in free text (error messages,
// published reasons, logs), in one format: the userinfo of a URL becomes
// "***@" and the value of a secret query parameter becomes "***". It never
// needs a URL to parse: an unparsable one is redacted the conservative way.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Mark replaces every hidden credential.
const Mark = "***"

// secretParams are the query parameter names (compared case-insensitively,
// after percent-decoding) whose values are credentials: some cameras,
// brokers and signed URLs carry them in the query instead of the userinfo.
var secretParams = []string{
	"password", "passwd", "pass", "pwd", "secret", "token", "access_token", "auth",
	"key", "apikey", "api_key", "sig", "signature",
}

// IsSecretParam reports whether a query parameter named name holds a credential.
func IsSecretParam(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	return slices.ContainsFunc(secretParams, func(s string) bool { return strings.EqualFold(s, name) })
}

// Value returns Mark for a non-empty secret and "" for an empty one, so a
// printed config says whether a password is set without showing it.
func Value(s string) string {
	if s == "" {
		return ""
	}
	return Mark
}

// URL returns raw with its userinfo replaced by Mark ("rtsp://***@host/x")
// and the value of every secret query or fragment parameter replaced by Mark.
// It works on the text, so a URL that does not parse (an unescaped '/', '?'
// or '@' in a password) is redacted too: then everything up to the last '@'
// after the scheme counts as userinfo. Over-redacting beats leaking.
func URL(raw string) string {
	out := raw
	if i, j, ok := userinfoSpan(out); ok {
		out = out[:i] + Mark + out[j:]
	}
	q := strings.IndexAny(out, "?#")
	if q < 0 {
		return out
	}
	return out[:q+1] + params(out[q+1:])
}

// params redacts secret values in a query (and fragment) string.
func params(s string) string {
	var b strings.Builder
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '&' && s[i] != ';' && s[i] != '#' {
			continue
		}
		b.WriteString(param(s[start:i]))
		if i < len(s) {
			b.WriteByte(s[i])
		}
		start = i + 1
	}
	return b.String()
}

func param(kv string) string {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || v == "" || !IsSecretParam(k) {
		return kv
	}
	return k + "=" + Mark
}

// userinfoSpan finds the userinfo of raw as raw[i:j] (without the '@').
func userinfoSpan(raw string) (i, j int, ok bool) {
	switch k := strings.Index(raw, "://"); {
	case k > 0 && isScheme(raw[:k]):
		i = k + 3
	case strings.HasPrefix(raw, "//"):
		i = 2
	case k < 0 && !strings.ContainsAny(raw, " \t\n"):
		// No scheme ("admin:pw@cam:554/s"): whatever precedes an '@' is
		// taken for userinfo.
		i = 0
	default:
		return 0, 0, false
	}
	rest := raw[i:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		// A password may hold an unescaped '/', '?' or '#': then the
		// authority ends at the last '@' anywhere.
		at = strings.LastIndex(rest, "@")
		if at < 0 {
			return 0, 0, false
		}
	}
	return i, i + at, true
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.').
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

var (
	// urlInText is a URL inside free text: a scheme, "://", then anything up
	// to white space or a quote.
	urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)
	// paramInText is a secret-looking name=value outside any URL.
	paramInText = regexp.MustCompile(`(?i)\b(` + strings.Join(secretParams, "|") + `)=([^\s&;"'` + "`" + `]+)`)
)

// Text redacts every URL in s (see URL) and every secret name=value pair
// outside URLs, so an error text can be logged or published.
func Text(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, URL)
	return paramInText.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		if v == Mark {
			return m
		}
		return k + "=" + Mark
	})
}

// Scrubber removes every spelling of one URL's credentials from text: a
// library error may quote the request URL, its userinfo, or the password
// alone, decoded or escaped.
type Scrubber struct {
	r *strings.Replacer
}

// minBare is the shortest password removed on its own: shorter ones would
// shred ordinary words; they are still removed inside the URL and userinfo.
const minBare = 4

// NewScrubber returns a Scrubber for rawURL. more are further spellings of
// the same credentials that a caller's own parser produces.
func NewScrubber(rawURL string, more ...string) *Scrubber {
	secrets := map[string]bool{}
	add := func(s string) {
		if s != "" {
			secrets[s] = true
		}
	}
	addBare := func(s string) {
		if len(s) >= minBare {
			secrets[s] = true
		}
	}
	add(rawURL)
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		add(u.User.String())
		if p, ok := u.User.Password(); ok {
			add(u.User.Username() + ":" + p)
			addBare(p)
			addBare(url.QueryEscape(p))
			addBare(url.PathEscape(p))
		}
	}
	for _, m := range more {
		addBare(m)
	}
	if q := strings.IndexAny(rawURL, "?#"); q >= 0 {
		for _, kv := range strings.FieldsFunc(rawURL[q+1:], func(r rune) bool { return r == '&' || r == ';' || r == '#' }) {
			if k, v, ok := strings.Cut(kv, "="); ok && IsSecretParam(k) {
				add(v)
				if dv, err := url.QueryUnescape(v); err == nil {
					add(dv)
				}
			}
		}
	}
	if i, j, ok := userinfoSpan(rawURL); ok {
		info := rawURL[i:j]
		add(info)
		if k := strings.Index(info, ":"); k >= 0 {
			addBare(info[k+1:])
		}
	}
	list := make([]string, 0, len(secrets))
	for s := range secrets {
		list = append(list, s)
	}
	// Longest first, so the whole URL is replaced before its parts.
	sort.Slice(list, func(a, b int) bool { return len(list[a]) > len(list[b]) })
	pairs := make([]string, 0, 2*len(list))
	for _, s := range list {
		rep := Mark
		if s == rawURL {
			rep = URL(rawURL)
		}
		pairs = append(pairs, s, rep)
	}
	return &Scrubber{r: strings.NewReplacer(pairs...)}
}

// Text returns text without the credentials, and with any other URL redacted too.
func (s *Scrubber) Text(text string) string {
	if s == nil || s.r == nil {
		return Text(text)
	}
	return Text(s.r.Replace(text))
}
