package decode

import (
	"time"

	"github.com/edgeprivacy/edge/internal/yuv"
)

// Frame is one decoded, still UNMASKED picture (YUV 4:2:0 planes, 8 bits).
// It must only ever be handed to the mask stage: every other stage accepts
// mask.Frame, which only the mask stage can produce.
// The receiver owns Pic and must Close it exactly once.
type Frame struct {
	Pic      yuv.Picture
	Seq      uint64        // decoded frame number, from 0, per decoder
	PTS      time.Duration // from the access unit
	Received time.Time     // wall-clock arrival of the access unit
}
