package compliance

import (
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/mask"
)

// Pausable is an image output that can be gated off and on.
type Pausable interface {
	Pause()
	Resume()
}

// Gate is a camera's permission to produce images. The zero Gate is closed:
// until a Monitor has seen a valid sign, nothing passes. An open gate also
// closes by itself at the camera sign's expiry: the Monitor checks signs
// once a second, and not one frame may be encoded after the sign ran out.
type Gate struct {
	open  atomic.Bool
	until atomic.Int64 // the sign's expiry in Unix nanoseconds; 0: none
	now   func() time.Time
}

// Open reports whether images may be produced now.
func (g *Gate) Open() bool {
	if !g.open.Load() {
		return false
	}
	u := g.until.Load()
	if u == 0 {
		return true
	}
	now := time.Now
	if g.now != nil {
		now = g.now
	}
	return now().UnixNano() < u
}

// expireAt sets the instant the open gate closes by itself; the zero time
// sets none.
func (g *Gate) expireAt(t time.Time) {
	if t.IsZero() {
		g.until.Store(0)
		return
	}
	g.until.Store(t.UnixNano())
}

// Wrap returns o behind the gate: frames offered while it is closed are
// closed at once and never reach o (nothing is encoded off-sign).
func (g *Gate) Wrap(o pipeline.Output) pipeline.Output { return gated{g, o} }

type gated struct {
	g *Gate
	o pipeline.Output
}

// Offer implements pipeline.Output.
func (x gated) Offer(f *mask.Frame) {
	if !x.g.Open() {
		f.Close()
		return
	}
	x.o.Offer(f)
}
