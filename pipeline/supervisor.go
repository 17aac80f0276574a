package pipeline

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Supervise runs every camera until ctx is done. A camera whose pipeline
// fails is restarted after a backoff (1 s doubling to 1 min, with jitter)
// while the others go on. It returns when every camera has stopped.
func Supervise(ctx context.Context, cams []*Camera, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, c := range cams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			superviseOne(ctx, c, log.With("camera", c.cfg.Camera))
		}()
	}
	wg.Wait()
}

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
