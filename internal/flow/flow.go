// Package flow holds the loop steps the pipeline's goroutines share, so the
// rules "a stage stops when its context is done or its input is closed" and
// "a periodic job stops with its context" are written once.
package flow

import (
	"context"
	"time"
)

// Recv waits for the next value from in. ok is false when in is closed or
// ctx is done: either way the caller's loop is over.
func Recv[T any](ctx context.Context, in <-chan T) (v T, ok bool) {
	select {
	case <-ctx.Done():
		return v, false
	case v, ok = <-in:
		return v, ok
	}
}

// Send waits until out takes v or ctx is done; it reports whether v was
// sent. It is for the hops whose drop policy is to block (the value is
// not dropped but the caller owns it again when Send returns false).
func Send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// Every calls f every d until ctx is done; the first call is after d.
func Every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
