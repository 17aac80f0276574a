package detect

import (
	"errors"
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// ErrTooSmall marks a picture smaller than the detector's window: it holds
// no person the detector could find, and OpenCV's detectors are not safe
// on it. The stage skips such crops and counts them.
var ErrTooSmall = errors.New("picture smaller than the detector window")

// Windowed is a Detector with a smallest picture it can look at. The stage
// never hands a Windowed detector a smaller crop.
type Windowed interface {
	Window() image.Point
}

// windowOf is d's window, or 1x1 for detectors that do not say.
func windowOf(d Detector) image.Point {
	if w, ok := d.(Windowed); ok {
		if p := w.Window(); p.X > 0 && p.Y > 0 {
			return p
		}
	}
	return image.Pt(1, 1)
}

// fits checks, in Go and before any cgo call, everything the C++ detectors
// assume of img: 8-bit BGR, continuous, and at least window in size.
func fits(img gocv.Mat, window image.Point) error {
	if img.Ptr() == nil || img.Empty() {
		return fmt.Errorf("%w: empty picture", ErrTooSmall)
	}
	if t := img.Type(); t != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("picture type %v, want 8-bit BGR", t)
	}
	if !img.IsContinuous() {
		return errors.New("picture is not continuous in memory")
	}
	if img.Cols() < window.X || img.Rows() < window.Y {
		return fmt.Errorf("%w: %dx%d, window %dx%d", ErrTooSmall, img.Cols(), img.Rows(), window.X, window.Y)
	}
	return nil
}
