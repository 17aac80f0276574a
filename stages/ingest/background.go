package ingest

import (
	"context"
	"sync"

	"github.com/edgeprivacy/edge/internal/media"
)

// Background runs Run on its own goroutine, sending into a channel of n
// units, for a command that reads units in its own loop (probe, a preview).
// stop cancels Run, drains what it still sends and returns Run's error, so
// that no goroutine of Run outlives the caller; call it on every return path.
// Calling stop again returns the same error.
func (i *Ingest) Background(ctx context.Context, n int) (aus <-chan media.AccessUnit, stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan media.AccessUnit, n)
	runErr := make(chan error, 1)
	go func() { runErr <- i.Run(ctx, out) }()
	return out, sync.OnceValue(func() error {
		cancel()
		for range out {
		}
		return <-runErr
	})
}
