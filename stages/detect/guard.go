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

// windowOf is d's window, at least 1x1.
func windowOf(d Detector) image.Point {
	p := d.Window()
	return image.Pt(max(1, p.X), max(1, p.Y))
}

// fits checks, in Go and before any cgo call, everything the C++ detectors
// assume of img: 8-bit BGR (or, for an InputGrey detector, 8-bit BGR or
// grey), continuous, and at least window in size.
func fits(img gocv.Mat, window image.Point, in Input) error {
	grey := in == InputGrey
	if img.Ptr() == nil || img.Empty() {
		return fmt.Errorf("%w: empty picture", ErrTooSmall)
	}
	switch t := img.Type(); {
	case t == gocv.MatTypeCV8UC3:
	case t == gocv.MatTypeCV8UC1 && grey:
	case grey:
		return fmt.Errorf("picture type %v, want 8-bit grey or BGR", t)
	default:
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
