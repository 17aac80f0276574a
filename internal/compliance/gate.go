package compliance

import (
	"sync/atomic"

	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/mask"
)

// Pausable is an image output that can be gated off and on.
type Pausable interface {
	Pause()
	Resume()
}

// Gate is a camera's permission to produce images. The zero Gate is closed:
// until a Monitor has seen a valid sign, nothing passes.
type Gate struct{ open atomic.Bool }

// Open reports whether images may be produced now.
func (g *Gate) Open() bool { return g.open.Load() }

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
