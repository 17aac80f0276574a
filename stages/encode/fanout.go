package encode

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/ratelog"
)

// Fanout hands every access unit to each consumer through the consumer's own
// bounded queue. A full queue drops the unit for that consumer alone
// (counted), which then gets nothing until the next keyframe; the others and
// the encoder never wait for it.
type Fanout struct {
	log      *slog.Logger
	branches []*branch
}

type branch struct {
	name    string
	ch      chan media.AccessUnit
	gap     bool // a unit was dropped: skip to the next keyframe
	dropped atomic.Uint64
	stale   atomic.Uint64
	tooSlow *ratelog.Limiter
}

// NewFanout returns a fan-out without consumers; log names the camera.
func NewFanout(log *slog.Logger) *Fanout {
	if log == nil {
		log = slog.Default()
	}
	return &Fanout{log: log}
}

// Add registers a consumer named name (for logs and Dropped) with a queue of
// size units, and returns what it reads. Call it before Run; the channel is
// closed when Run returns.
func (f *Fanout) Add(name string, size int) <-chan media.AccessUnit {
	b := &branch{name: name, ch: make(chan media.AccessUnit, max(1, size)),
		tooSlow: ratelog.New(f.log.With("consumer", name), slog.LevelWarn, "encoded stream consumer is too slow, discarding units until the next keyframe")}
	f.branches = append(f.branches, b)
	return b.ch
}

// Dropped is how many units the consumer named name lost, to a full queue
// or waiting for a keyframe after one.
func (f *Fanout) Dropped(name string) uint64 {
	return f.count(name, func(b *branch) *atomic.Uint64 { return &b.dropped })
}

// Stale is how many units the consumer named name lost because a reload
// changed the privacy zones after they were masked (counted in Dropped
// too).
func (f *Fanout) Stale(name string) uint64 {
	return f.count(name, func(b *branch) *atomic.Uint64 { return &b.stale })
}

// count sums one counter over the consumers named name (a name may be
// added more than once).
func (f *Fanout) count(name string, counter func(*branch) *atomic.Uint64) uint64 {
	var n uint64
	for _, b := range f.branches {
		if b.name == name {
			n += counter(b).Load()
		}
	}
	return n
}

// Run passes units from in to every consumer until in is closed or ctx is
// done, then closes the consumers' channels and returns nil. Access units
// are never changed by consumers, so they share them.
func (f *Fanout) Run(ctx context.Context, in <-chan media.AccessUnit) error {
	defer func() {
		for _, b := range f.branches {
			close(b.ch)
		}
	}()
	for {
		au, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		for _, b := range f.branches {
			b.offer(au)
		}
	}
}

func (b *branch) offer(au media.AccessUnit) {
	if au.Mask.Stale() {
		// Painted with privacy zones a reload replaced: never queued. The
		// encoder codes the new zones' first picture as a keyframe.
		b.stale.Add(1)
		b.dropped.Add(1)
		b.gap = true
		return
	}
	if b.gap && !au.Keyframe {
		b.dropped.Add(1)
		return
	}
	select {
	case b.ch <- au:
		b.gap = false
	default:
		b.gap = true
		b.dropped.Add(1)
		b.tooSlow.Log()
	}
}
