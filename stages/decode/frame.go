package decode

import (
	"time"

	"gocv.io/x/gocv"
)

// Frame is one decoded, still UNMASKED picture (BGR, 8 bits per channel).
// It must only ever be handed to the mask stage: every other stage accepts
// mask.Frame, which only the mask stage can produce.
// The receiver owns Mat and must Close it exactly once.
type Frame struct {
	Mat      gocv.Mat
	Seq      uint64        // decoded frame number, from 0, per decoder
	PTS      time.Duration // from the access unit
	Received time.Time     // wall-clock arrival of the access unit
}
