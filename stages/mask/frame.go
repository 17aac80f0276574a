package mask

import (
	"context"
	"image"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/yuv"
)

// Frame is a decoded frame whose privacy zones have been painted over.
//
// Its fields are unexported and only this package constructs it, so a stage
// that accepts *Frame cannot be handed an unmasked picture: that much of the
// privacy invariant is enforced by the compiler. (A zero Frame holds no
// picture and panics on use.) What the compiler cannot stop is a consumer
// writing into the shared picture; the accessors' contract is read-only,
// and no consumer in this module writes to it.
//
// The picture stays in YUV 4:2:0, as decoded and masked. Consumers read
// luma (Luma, CropGray), convert a crop (CropBGR) or the whole frame (BGR, converted
// once and shared by every consumer that asks).
//
// One Frame may feed several consumers (motion, detection, restream,
// snapshots). Each consumer that keeps it beyond a call takes a reference
// with Ref and gives it back with Close; the picture is freed with the last
// one.
type Frame struct {
	pic      yuv.Picture
	seq      uint64
	pts      time.Duration
	received time.Time
	stamp    maskepoch.Stamp
	refs     atomic.Int32

	bgrOnce sync.Once
	bgr     gocv.Mat
	bgrErr  error

	motion atomic.Pointer[[]image.Rectangle] // NoteMotion's note
}

func newFrame(p yuv.Picture, seq uint64, pts time.Duration, received time.Time, stamp maskepoch.Stamp) *Frame {
	f := &Frame{pic: p, seq: seq, pts: pts, received: received, stamp: stamp}
	f.refs.Store(1)
	return f
}

// BGR returns the masked picture converted to BGR (8 bits per channel,
// continuous). The first call converts; later calls, from any goroutine,
// get the same Mat. It stays owned by the Frame: do not Close it, and copy
// it before changing it, since other consumers may read it at the same time.
func (f *Frame) BGR() (gocv.Mat, error) {
	f.bgrOnce.Do(func() {
		wholeBGR.Add(1)
		f.bgr, f.bgrErr = f.pic.BGR()
	})
	return f.bgr, f.bgrErr
}

// wholeBGR counts the frames BGR converted, process-wide.
var wholeBGR atomic.Uint64

// WholeFrameConversions is how many masked frames have been converted to
// BGR whole (BGR) in this process: the cost that stays in YUV is meant to
// save. Live outputs that take YUV (the encoder) never add to it; verify
// and snapshots do.
func WholeFrameConversions() uint64 { return wholeBGR.Load() }

// CropBGR converts only r (clipped to the frame) of the masked picture to a
// new BGR Mat, which the caller closes.
func (f *Frame) CropBGR(r image.Rectangle) (gocv.Mat, error) { return f.pic.CropBGR(r) }

// CropGray copies only r (clipped to the frame) of the masked luma plane
// to a new full-range grey Mat, which the caller closes: what detectors of
// brightness alone (HOG, Haar) analyse, with no colour conversion.
func (f *Frame) CropGray(r image.Rectangle) (gocv.Mat, error) { return f.pic.CropGray(r) }

// Luma is the masked luma plane as a single-channel view of the frame's
// size. It stays owned by the Frame: do not Close it or write to it.
func (f *Frame) Luma() gocv.Mat { return f.pic.Luma() }

// Planes returns the masked planes, for checks that read every sample. The
// slices are the frame's own: read them only.
func (f *Frame) Planes() (yuv.Planes, error) { return f.pic.Planes() }

// NoteMotion records where the motion gate saw this picture change since
// the frame before it (frame pixels; none for a frame passed without
// motion), so that the detector can look there and not at the whole zone.
// It changes no pixel; the first note stays.
func (f *Frame) NoteMotion(rs []image.Rectangle) { f.motion.CompareAndSwap(nil, &rs) }

// Motion is what NoteMotion recorded; ok is false when nothing was (a
// frame that did not come through a motion gate).
func (f *Frame) Motion() (rs []image.Rectangle, ok bool) {
	if p := f.motion.Load(); p != nil {
		return *p, true
	}
	return nil, false
}

// Stamp is the epoch of the privacy zones the frame was painted with. An
// output holds it (Stamp().Hold) while it publishes the picture, and drops
// a frame whose zones a reload has replaced.
func (f *Frame) Stamp() maskepoch.Stamp { return f.stamp }

// Stale reports whether a reload has changed the privacy zones since the
// frame was painted: such a frame must not be published or analysed.
func (f *Frame) Stale() bool { return f.stamp.Stale() }

// Seq is the decoder's frame number.
func (f *Frame) Seq() uint64 { return f.seq }

// PTS is the presentation time from the stream.
func (f *Frame) PTS() time.Duration { return f.pts }

// Received is the wall-clock time the frame's access unit arrived.
func (f *Frame) Received() time.Time { return f.received }

// Size is the frame's width and height in pixels.
func (f *Frame) Size() image.Point { return f.pic.Size() }

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
		f.pic.Close()
		if f.bgr.Ptr() != nil {
			f.bgr.Close()
		}
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
