package detect

/*
#include <stdlib.h>
#include "cascade.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"os"
	"unsafe"

	"gocv.io/x/gocv"
)

const haarMaxBoxes = 256

// Haar is an OpenCV cascade classifier loaded from a file, such as
// haarcascade_fullbody.xml from Debian's opencv-data. Cascades report no
// confidence: every box scores 1.
type Haar struct {
	p      unsafe.Pointer
	buf    []C.EdgeRect
	window image.Point
}

// NewHaar loads the cascade at path.
func NewHaar(path string) (*Haar, error) {
	if path == "" {
		return nil, fmt.Errorf("detect: %w: haar needs detect.model, e.g. /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml (Debian package opencv-data)", ErrModel)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("detect: %w: haar cascade: %w; install opencv-data or fix detect.model", ErrModel, err)
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var errBuf [512]C.char
	p := C.edge_cascade_new(cp, &errBuf[0], C.int(len(errBuf)))
	if p == nil {
		return nil, fmt.Errorf("detect: %w: %s: %s; point detect.model at an OpenCV cascade XML", ErrModel, path, cMsg(&errBuf[0]))
	}
	var w, h C.int
	C.edge_cascade_window(p, &w, &h)
	return &Haar{p: p, buf: make([]C.EdgeRect, haarMaxBoxes), window: image.Pt(max(1, int(w)), max(1, int(h)))}, nil
}

// Detect returns the people in img, each with Score 1.
func (h *Haar) Detect(img gocv.Mat) ([]Box, error) {
	if h.p == nil {
		return nil, errors.New("detect: haar detector used after Close")
	}
	if err := fits(img, h.window, h.Input()); err != nil {
		return nil, fmt.Errorf("detect: haar: %w", err)
	}
	var errBuf [256]C.char
	n := C.edge_cascade_detect(h.p, unsafe.Pointer(img.Ptr()), 1.1, 3, &h.buf[0], C.int(len(h.buf)),
		&errBuf[0], C.int(len(errBuf)))
	if n < 0 {
		return nil, fmt.Errorf("detect: haar on %dx%d picture: %s", img.Cols(), img.Rows(), cMsg(&errBuf[0]))
	}
	boxes := make([]Box, 0, min(int(n), len(h.buf)))
	for _, r := range h.buf[:min(int(n), len(h.buf))] {
		boxes = append(boxes, Box{Rect: image.Rect(int(r.x), int(r.y), int(r.x+r.w), int(r.y+r.h)), Score: 1})
	}
	return boxes, nil
}

// Window is the cascade's detection window: no smaller picture is looked at.
func (h *Haar) Window() image.Point { return h.window }

// Input is grey: a cascade looks at grey only (BGR is converted first).
func (h *Haar) Input() Input { return InputGrey }

// Close frees the cascade.
func (h *Haar) Close() error {
	if h.p != nil {
		C.edge_cascade_free(h.p)
		h.p = nil
	}
	return nil
}
