package ingest

import (
	"cmp"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"

	"github.com/edgeprivacy/edge/internal/redact"
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
	// MaxAge bounds how old an access unit may be (since it arrived) when
	// it is handed to the consumer. One that waited longer is dropped and
	// counted Stale, and so is everything after it up to the next keyframe
	// young enough, so that a consumer that falls behind skips ahead
	// instead of working through a backlog of seconds-old frames. It
	// defaults to 1 second; negative turns the bound off (probe, which
	// wants every unit).
	MaxAge time.Duration
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
	defaultMaxAge       = time.Second
	defaultBackoffMin   = 500 * time.Millisecond
	defaultBackoffMax   = 30 * time.Second
)

// withDefaults fills unset fields and checks the rest. Errors never contain
// the URL's credentials.
func (c Config) withDefaults() (Config, error) {
	c.Transport = cmp.Or(c.Transport, "tcp")
	c.Transport = strings.ToLower(c.Transport)
	if c.Transport != "tcp" && c.Transport != "udp" {
		return c, fmt.Errorf("ingest: transport %q is not supported: use tcp or udp", c.Transport)
	}
	c.BufferSize = cmp.Or(c.BufferSize, defaultBufferSize)
	if c.BufferSize < 0 {
		return c, fmt.Errorf("ingest: buffer size %d is negative: use a positive number of access units", c.BufferSize)
	}
	c.StallTimeout = cmp.Or(c.StallTimeout, defaultStallTimeout)
	c.MaxAge = cmp.Or(c.MaxAge, defaultMaxAge)
	c.BackoffMin = cmp.Or(c.BackoffMin, defaultBackoffMin)
	c.BackoffMax = cmp.Or(c.BackoffMax, defaultBackoffMax)
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
		return c, fmt.Errorf("ingest: URL %s is not an RTSP URL: use rtsp:// or rtsps://", redact.URL(c.URL))
	}
	u, err := base.ParseURL(c.URL)
	if err != nil {
		// The parser's message may quote the URL; keep only what is safe.
		return c, fmt.Errorf("ingest: URL %s does not parse: check its syntax (percent-encode @ : / in passwords)", redact.URL(c.URL))
	}
	if u.Host == "" {
		return c, fmt.Errorf("ingest: URL %s has no host", redact.URL(c.URL))
	}
	return c, nil
}

// scrubber removes every spelling of rawURL's credentials from text; the
// RTSP library's own parse of the URL adds the spellings it would quote.
func scrubber(rawURL string) *redact.Scrubber {
	var more []string
	if u, err := base.ParseURL(rawURL); err == nil && u.User != nil {
		more = append(more, u.User.String())
		if p, ok := u.User.Password(); ok {
			more = append(more, p)
		}
	}
	return redact.NewScrubber(rawURL, more...)
}
