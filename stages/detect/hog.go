package detect

/*
#include <stdlib.h>
#include "hog.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"

	"gocv.io/x/gocv"
)

// HOG parameters, measured on vtest.avi at 640 pixels wide on two cores:
// an 8 pixel stride and a 1.05 pyramid step find the walkers in most frames;
// coarser steps lose the smaller ones.
const (
	hogStride      = 8
	hogPadding     = 8
	hogScale       = 1.05
	hogFinalThresh = 2 // windows a cluster needs to count (OpenCV's default)
	hogMaxBoxes    = 256
)

// hogWindow is the default people detector's window. OpenCV's HOG cache
// assumes the picture holds at least one window: on a smaller one it
// asserts and then corrupts the heap (seen at 150x60, 16x16, 1280x1), a
// fault no recover can catch, so nothing smaller ever reaches it.
var hogWindow = image.Pt(64, 128)

// HOGWindow is the window of the hog kind of detector (HOG.Window), for
// what needs it without a detector: a replay of logged boxes.
func HOGWindow() image.Point { return hogWindow }

// HOG is OpenCV's HOG people detector (Dalal-Triggs, default 64x128 SVM).
// People smaller than about 64x128 pixels in the picture given to it are
// not found.
type HOG struct {
	p           unsafe.Pointer
	buf         []C.EdgeHOGBox
	stride, pad int
	scale       float64
	hit         float64 // the SVM margin a window needs; 0, OpenCV's default, in production
}

// NewHOG returns the default people detector.
func NewHOG() (*HOG, error) {
	p := C.edge_hog_new()
	if p == nil {
		return nil, errors.New("detect: OpenCV could not build the HOG people detector")
	}
	return &HOG{p: p, buf: make([]C.EdgeHOGBox, hogMaxBoxes), stride: hogStride, pad: hogPadding, scale: hogScale}, nil
}

// Detect returns the people in img; Score is the SVM margin.
func (h *HOG) Detect(img gocv.Mat) ([]Box, error) {
	if h.p == nil {
		return nil, errors.New("detect: HOG detector used after Close")
	}
	if err := fits(img, hogWindow, h.Input()); err != nil {
		return nil, fmt.Errorf("detect: HOG: %w", err)
	}
	var errBuf [256]C.char
	n := C.edge_hog_detect(h.p, unsafe.Pointer(img.Ptr()), C.double(h.hit), C.int(h.stride), C.int(h.pad),
		C.double(h.scale), hogFinalThresh, &h.buf[0], C.int(len(h.buf)), &errBuf[0], C.int(len(errBuf)))
	if n < 0 {
		return nil, fmt.Errorf("detect: HOG on %dx%d picture: %s", img.Cols(), img.Rows(), cMsg(&errBuf[0]))
	}
	boxes := make([]Box, 0, min(int(n), len(h.buf)))
	for _, b := range h.buf[:min(int(n), len(h.buf))] {
		boxes = append(boxes, Box{
			Rect:  image.Rect(int(b.x), int(b.y), int(b.x+b.w), int(b.y+b.h)),
			Score: float64(b.weight),
		})
	}
	return boxes, nil
}

// Window is the detection window: no smaller picture is looked at.
func (h *HOG) Window() image.Point { return hogWindow }

// Input is grey: OpenCV's HOG takes the largest of the channels'
// gradients at each pixel, and on grey computes a third of them.
func (h *HOG) Input() Input { return InputGrey }

// Close frees the detector.
func (h *HOG) Close() error {
	if h.p != nil {
		C.edge_hog_free(h.p)
		h.p = nil
	}
	return nil
}
