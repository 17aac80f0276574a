package detect

import (
	"errors"
	"fmt"
	"image"
	"os"

	"gocv.io/x/gocv"
)

// Haar is an OpenCV cascade classifier loaded from a file, such as
// haarcascade_fullbody.xml from Debian's opencv-data. Cascades report no
// confidence: every box scores 1.
type Haar struct {
	c    gocv.CascadeClassifier
	grey gocv.Mat
	open bool
}

// NewHaar loads the cascade at path.
func NewHaar(path string) (*Haar, error) {
	if path == "" {
		return nil, fmt.Errorf("detect: %w: haar needs detect.model, e.g. /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml (Debian package opencv-data)", ErrModel)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("detect: %w: haar cascade: %w; install opencv-data or fix detect.model", ErrModel, err)
	}
	c := gocv.NewCascadeClassifier()
	if !c.Load(path) {
		c.Close()
		return nil, fmt.Errorf("detect: %w: %s is not an OpenCV cascade file", ErrModel, path)
	}
	return &Haar{c: c, grey: gocv.NewMat(), open: true}, nil
}

// Detect returns the people in img, each with Score 1.
func (h *Haar) Detect(img gocv.Mat) ([]Box, error) {
	if !h.open {
		return nil, errors.New("detect: haar detector used after Close")
	}
	if img.Empty() {
		return nil, nil
	}
	gocv.CvtColor(img, &h.grey, gocv.ColorBGRToGray)
	gocv.EqualizeHist(h.grey, &h.grey)
	rects := h.c.DetectMultiScaleWithParams(h.grey, 1.1, 3, 0, image.Point{}, image.Point{})
	boxes := make([]Box, len(rects))
	for i, r := range rects {
		boxes[i] = Box{Rect: r, Score: 1}
	}
	return boxes, nil
}

// Close frees the cascade.
func (h *Haar) Close() error {
	if h.open {
		h.open = false
		h.grey.Close()
		return h.c.Close()
	}
	return nil
}
