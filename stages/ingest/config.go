package ingest

import (
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
)

// Config describes one camera stream to pull.
type Config struct {
	// URL of the stream, rtsp:// or rtsps://, optionally with user:password.
	URL string
	// Transport is "tcp" (interleaved, the default: survives NAT and loss)
	// or "udp".
	Transport string
	// BufferSize is how many access units may wait for a slow consumer
	// before ingest starts dropping. It defaults to 30 (a few seconds).
	BufferSize int
	// StallTimeout is how long the stream may stay silent (no access unit)
	// before the session counts as failed and is reconnected.
	// It defaults to 5 seconds.
	StallTimeout time.Duration
	// BackoffMin and BackoffMax bound the pause between reconnects.
	// They default to 500 ms and 30 s.
	BackoffMin, BackoffMax time.Duration
	// Once makes Run try a single session and return its error instead of
	// reconnecting; `edge probe` uses it to fail fast.
	Once bool
	// Logger receives state changes and failures. It defaults to slog.Default().
	Logger *slog.Logger
}

const (
	defaultBufferSize   = 30
	defaultStallTimeout = 5 * time.Second
	defaultBackoffMin   = 500 * time.Millisecond
	defaultBackoffMax   = 30 * time.Second
)

// withDefaults fills unset fields and checks the rest. Errors never contain
// the URL's credentials.
func (c Config) withDefaults() (Config, error) {
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	c.Transport = strings.ToLower(c.Transport)
	if c.Transport != "tcp" && c.Transport != "udp" {
		return c, fmt.Errorf("ingest: transport %q is not supported: use tcp or udp", c.Transport)
	}
	if c.BufferSize == 0 {
		c.BufferSize = defaultBufferSize
	}
	if c.BufferSize < 0 {
		return c, fmt.Errorf("ingest: buffer size %d is negative: use a positive number of access units", c.BufferSize)
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = defaultStallTimeout
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = defaultBackoffMin
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = defaultBackoffMax
	}
	if c.StallTimeout < 0 || c.BackoffMin < 0 || c.BackoffMax < 0 {
		return c, fmt.Errorf("ingest: stall timeout and backoff must not be negative")
	}
	if c.BackoffMax < c.BackoffMin {
		return c, fmt.Errorf("ingest: backoff max %v is below backoff min %v: raise the max", c.BackoffMax, c.BackoffMin)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.URL == "" {
		return c, fmt.Errorf("ingest: URL is empty: give the camera's rtsp:// address")
	}
	if !strings.HasPrefix(c.URL, "rtsp://") && !strings.HasPrefix(c.URL, "rtsps://") {
		return c, fmt.Errorf("ingest: URL %s is not an RTSP URL: use rtsp:// or rtsps://", redact(c.URL))
	}
	u, err := base.ParseURL(c.URL)
	if err != nil {
		// The parser's message may quote the URL; keep only what is safe.
		return c, fmt.Errorf("ingest: URL %s does not parse: check its syntax (percent-encode @ : / in passwords)", redact(c.URL))
	}
	if u.Host == "" {
		return c, fmt.Errorf("ingest: URL %s has no host", redact(c.URL))
	}
	return c, nil
}

// redact returns rawURL with its userinfo replaced by "***", so the URL can be
// logged. It does not need rawURL to parse.
func redact(rawURL string) string {
	out := rawURL
	if i, j, ok := userinfoSpan(rawURL); ok {
		out = rawURL[:i] + "***" + rawURL[j:]
	}
	for _, v := range querySecrets(out) {
		out = strings.ReplaceAll(out, v, "***")
	}
	return out
}

// secretParams are query parameters some cameras take credentials in.
var secretParams = []string{"password", "passwd", "pass", "pwd", "token", "secret", "key", "auth", "apikey", "api_key"}

// querySecrets returns the raw values of secret-looking query parameters.
func querySecrets(rawURL string) []string {
	q := strings.IndexByte(rawURL, '?')
	if q < 0 {
		return nil
	}
	query := rawURL[q+1:]
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query = query[:h]
	}
	var vals []string
	for _, kv := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		for _, s := range secretParams {
			if strings.EqualFold(k, s) {
				vals = append(vals, v)
				if dv, err := url.QueryUnescape(v); err == nil && dv != v {
					vals = append(vals, dv)
				}
			}
		}
	}
	// Longest first, so no value is left half replaced.
	sort.Slice(vals, func(a, b int) bool { return len(vals[a]) > len(vals[b]) })
	return vals
}

// userinfoSpan finds the userinfo of rawURL as rawURL[i:j] (without the '@').
func userinfoSpan(rawURL string) (i, j int, ok bool) {
	k := strings.Index(rawURL, "://")
	if k < 0 {
		return 0, 0, false
	}
	i = k + 3
	rest := rawURL[i:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		// A password may contain an unencoded '/': then the authority ends
		// at the last '@' anywhere. Over-redacting beats leaking.
		at = strings.LastIndex(rest, "@")
		if at < 0 {
			return 0, 0, false
		}
	}
	return i, i + at, true
}

// secretScrubber removes every spelling of a URL's credentials from text,
// such as a library error that quotes the request URL.
type secretScrubber struct {
	r *strings.Replacer
}

func newSecretScrubber(rawURL string) secretScrubber {
	secrets := map[string]bool{}
	// Bare passwords shorter than this would shred ordinary words in the
	// text; they are still removed inside the URL and userinfo forms.
	const minBare = 4
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
	if u, err := base.ParseURL(rawURL); err == nil && u.User != nil {
		add(u.User.String())
		if p, ok := u.User.Password(); ok {
			addBare(p)
		}
	}
	for _, v := range querySecrets(rawURL) {
		add(v)
	}
	// Raw userinfo, for URLs the parsers reject.
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
		rep := "***"
		if s == rawURL {
			rep = redact(rawURL)
		}
		pairs = append(pairs, s, rep)
	}
	return secretScrubber{r: strings.NewReplacer(pairs...)}
}

func (s secretScrubber) scrub(text string) string {
	if s.r == nil {
		return text
	}
	return s.r.Replace(text)
}
