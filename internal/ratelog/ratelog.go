// Package ratelog keeps a condition that repeats with every frame from
// flooding the log: the first occurrence is logged in full, later ones are
// counted and reported at most once per interval (10 s by default), with
// the latest details and how many happened since the last line.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Every is the default interval between two lines of one Limiter.
const Every = 10 * time.Second

// Limiter rate-limits one message. It is safe for concurrent use.
type Limiter struct {
	log   *slog.Logger
	level slog.Level
	msg   string
	every time.Duration
	now   func() time.Time

	mu       sync.Mutex
	logged   bool
	last     time.Time
	repeated int // occurrences since the last line
}

// New returns a Limiter logging msg at level on log, at most once per Every.
func New(log *slog.Logger, level slog.Level, msg string) *Limiter {
	return newEvery(log, level, msg, Every, time.Now)
}

// newEvery is New with its own interval and clock (tests).
func newEvery(log *slog.Logger, level slog.Level, msg string, every time.Duration, now func() time.Time) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	return &Limiter{log: log, level: level, msg: msg, every: every, now: now}
}

// Log records one occurrence with its details (slog key-value pairs) and
// writes a line when it is the first, or when the interval has passed
// since the last line; that line carries "repeated", the number of
// occurrences it stands for.
func (l *Limiter) Log(args ...any) {
	l.mu.Lock()
	t := l.now()
	l.repeated++
	if l.logged && t.Sub(l.last) < l.every {
		l.mu.Unlock()
		return
	}
	n := l.repeated
	first := !l.logged
	l.logged, l.last, l.repeated = true, t, 0
	l.mu.Unlock()
	if !first {
		args = append(args, "repeated", n, "since", l.every.String())
	}
	l.log.Log(context.Background(), l.level, l.msg, args...)
}
