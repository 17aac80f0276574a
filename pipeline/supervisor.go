package pipeline

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// superviseOne runs c until ctx is done. A pipeline that fails is restarted
// after a backoff (1 s doubling to 1 min, with jitter), so one bad camera
// neither stops the others nor spins.
func superviseOne(ctx context.Context, c *Camera, log *slog.Logger) {
	const lo, hi = time.Second, time.Minute
	wait := lo
	for {
		started := time.Now()
		err := c.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > 2*hi {
			wait = lo // it ran well for a while: this is a new failure, not a loop
		}
		pause := wait/2 + rand.N(wait/2+1)
		if err != nil {
			log.Error("camera pipeline failed; restarting", "err", err, "in", pause.Round(time.Millisecond))
		} else {
			log.Warn("camera pipeline stopped; restarting", "in", pause.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		wait = min(wait*2, hi)
	}
}
