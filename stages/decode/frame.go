package decode

import (
	"time"

	"github.com/edgeprivacy/edge/internal/yuv"
	"gocv.io/x/gocv"
)

// Frame is one decoded, still UNMASKED picture (YUV 4:2:0 planes, 8 bits).
// It must only ever be handed to the mask stage: every other stage accepts
// mask.Frame, which only the mask stage can produce.
// Whoever receives a Frame owns it: it closes it exactly once, with Close
// (never Pic.Close on its own, which would leave Native open), or hands the
// picture on with TakePic.
type Frame struct {
	Pic      yuv.Picture
	Seq      uint64        // decoded frame number, from 0, per decoder
	PTS      time.Duration // from the access unit
	Received time.Time     // wall-clock arrival of the access unit
	// Native is the picture converted straight to BGR at its own
	// resolution, only with Config.Native and only when the stream is not
	// 8-bit YUV 4:2:0; otherwise empty. The receiver closes it too.
	Native gocv.Mat
}

// Close frees the picture and its native copy, if any.
func (f Frame) Close() {
	f.Pic.Close()
	f.closeNative()
}

// TakePic hands the picture on to a new owner (the mask stage) and frees the
// rest of the frame, the unmasked native copy; the frame is not closed after
// it.
func (f Frame) TakePic() yuv.Picture {
	f.closeNative()
	return f.Pic
}

func (f Frame) closeNative() {
	if f.Native.Ptr() != nil {
		f.Native.Close()
	}
}
