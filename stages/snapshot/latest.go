package snapshot

import (
	"sync"

	"github.com/edgeprivacy/edge/stages/mask"
)

// Latest is the snapshot output of a camera: a pipeline output that keeps
// the newest masked frame, which snapshots and the console's picture are
// made from. Frames only move forward into it; nothing reaches back into
// the pipeline for one.
type Latest struct {
	mu sync.Mutex
	f  *mask.Frame
}

// NewLatest returns an empty Latest.
func NewLatest() *Latest { return &Latest{} }

// Offer keeps f as the newest frame (nil keeps none) and closes the one it
// replaces. It never blocks; it owns f from here (pipeline.Output).
func (l *Latest) Offer(f *mask.Frame) {
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// Frame returns a reference to the newest frame, or nil when there is none.
// The caller closes it. It is masked like every frame the camera offers: a
// picture made from it cannot hold a private pixel. A frame painted with
// privacy zones a reload has since replaced is let go and not returned
// (nil until the next frame); whoever publishes a picture made from the
// frame holds its Stamp meanwhile, since a reload may come in between.
func (l *Latest) Frame() *mask.Frame {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	if l.f.Stale() {
		l.f.Close()
		l.f = nil
		return nil
	}
	return l.f.Ref()
}

// Reset lets go of the frame (pipeline.Resetter): the camera's run has
// ended, and a frame masked under the zones it ran with must not be served
// after a restart with others.
func (l *Latest) Reset() { l.Offer(nil) }
