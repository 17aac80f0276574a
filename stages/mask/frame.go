package mask

import (
	"context"
	"image"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"
)

// Frame is a decoded frame whose privacy zones have been painted over.
//
// Its fields are unexported and only this package constructs it, so a stage
// that accepts *Frame cannot be handed an unmasked picture: that much of the
// privacy invariant is enforced by the compiler. (A zero Frame holds no
// picture and panics on use.) What the compiler cannot stop is a consumer
// writing into the shared picture; Mat's contract is read-only, and no
// consumer in this module writes to it.
//
// One Frame may feed several consumers (motion, detection, restream,
// snapshots). Each consumer that keeps it beyond a call takes a reference
// with Ref and gives it back with Close; the Mat is closed with the last one.
type Frame struct {
	mat      gocv.Mat
	seq      uint64
	pts      time.Duration
	received time.Time
	refs     atomic.Int32
}

func newFrame(m gocv.Mat, seq uint64, pts time.Duration, received time.Time) *Frame {
	f := &Frame{mat: m, seq: seq, pts: pts, received: received}
	f.refs.Store(1)
	return f
}

// Mat returns the masked picture (BGR, 8 bits per channel). It stays owned by
// the Frame: do not Close it, and copy it before changing it, since other
// consumers may read it at the same time.
func (f *Frame) Mat() gocv.Mat { return f.mat }

// Seq is the decoder's frame number.
func (f *Frame) Seq() uint64 { return f.seq }

// PTS is the presentation time from the stream.
func (f *Frame) PTS() time.Duration { return f.pts }

// Received is the wall-clock time the frame's access unit arrived.
func (f *Frame) Received() time.Time { return f.received }

// Size is the frame's width and height in pixels.
func (f *Frame) Size() image.Point { return image.Pt(f.mat.Cols(), f.mat.Rows()) }

// Ref takes one more reference and returns the frame, for handing it to
// another consumer.
func (f *Frame) Ref() *Frame {
	if f.refs.Add(1) <= 1 {
		panic("mask: Ref on a closed frame")
	}
	return f
}

// Close gives back one reference; the last one frees the picture.
func (f *Frame) Close() {
	switch n := f.refs.Add(-1); {
	case n == 0:
		f.mat.Close()
	case n < 0:
		panic("mask: frame closed more often than referenced")
	}
}

// Outcome is what became of a frame handed to the next stage.
type Outcome int

// Outcomes of Send.
const (
	Sent      Outcome = iota // the receiver has it
	Dropped                  // the receiver was busy; the frame was closed
	Cancelled                // ctx ended while waiting; the frame was closed
)

// Send hands f to out under the pipeline's drop policy. Live stages never
// wait (block false): a busy receiver loses the frame, which Send closes.
// Offline runs wait (block true), so every frame is analysed, until ctx ends.
func Send(ctx context.Context, out chan<- *Frame, f *Frame, block bool) Outcome {
	if block {
		select {
		case out <- f:
			return Sent
		case <-ctx.Done():
			f.Close()
			return Cancelled
		}
	}
	select {
	case out <- f:
		return Sent
	default:
		f.Close()
		return Dropped
	}
}
