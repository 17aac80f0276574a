package decode

import (
	"errors"
	"fmt"
)

// The picture sizes edge accepts from a camera. Below MinSide a picture
// holds nothing a person detector, a viewer or an inspector can use, and
// sizes like 1280x1 or 3x3 are what broken or hostile streams send; above
// MaxSide one picture would take hundreds of megabytes.
const (
	MinSide = 32
	MaxSide = 8192
)

// ErrUnsupportedSize marks a picture whose size is outside
// MinSide..MaxSide. The stage drops such pictures (counted) and reports the
// stream as unsupported instead of passing them on.
var ErrUnsupportedSize = errors.New("unsupported picture size")

// Supported says whether a w x h picture may enter the pipeline.
func Supported(w, h int) error {
	if w < MinSide || h < MinSide || w > MaxSide || h > MaxSide {
		return fmt.Errorf("%w %dx%d: each side must be %d..%d pixels; set the camera's stream to a normal resolution (e.g. 640x360 or 1280x720)",
			ErrUnsupportedSize, w, h, MinSide, MaxSide)
	}
	return nil
}
