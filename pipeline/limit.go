package pipeline

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/stages/mask"
)

// limiter passes at most one frame per interval of stream time (PTS), so that
// detection runs at the configured rate whatever the camera's frame rate, and
// live and offline runs analyse the same frames of a clip.
type limiter struct {
	interval time.Duration
	// block waits for the detector instead of dropping (offline runs).
	block bool

	passed, skipped, busy atomic.Uint64
}

func (l *limiter) Run(ctx context.Context, in <-chan *mask.Frame, out chan<- *mask.Frame) error {
	defer close(out)
	var last time.Duration
	first := true
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		pts := f.PTS()
		// A PTS that goes backwards is a new stream (reconnect, loop): start over.
		if !first && pts >= last && pts-last < l.interval {
			l.skipped.Add(1)
			f.Close()
			continue
		}
		switch mask.Send(ctx, out, f, l.block) {
		case mask.Cancelled:
			return nil
		case mask.Dropped:
			// The detector is still on an older frame: keep only the latest.
			l.busy.Add(1)
			continue
		}
		first, last = false, pts
		l.passed.Add(1)
	}
}
