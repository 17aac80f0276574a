package detect

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"slices"

	"github.com/edgeprivacy/edge/zones"
)

// Output layouts of the person detectors the dnn kind reads
// (DNNConfig.Format); see docs/detection.md for the exports that load.
const (
	// FormatSSD is OpenCV's DetectionOutput: [1, 1, N, 7] rows of (image,
	// class, score, x0, y0, x1, y1), corners in 0..1 of the input.
	FormatSSD = "ssd"
	// FormatYOLOv5 is [1, N, 5+classes] rows of (cx, cy, w, h, objectness,
	// class scores...), in input pixels; score = objectness * class score.
	FormatYOLOv5 = "yolov5"
	// FormatYOLOv8 is [1, 4+classes, N] columns of (cx, cy, w, h, class
	// scores...), in input pixels, without objectness.
	FormatYOLOv8 = "yolov8"
)

// Formats lists the output layouts, for messages and validation.
var Formats = []string{FormatSSD, FormatYOLOv5, FormatYOLOv8}

// detection is one person candidate in frame pixels, before NMS.
type detection struct {
	rect  image.Rectangle
	score float64
}

// layoutError says what the output looks like when it does not fit format.
func layoutError(format string, shape []int, personClass int) error {
	want := map[string]string{
		FormatSSD:    "[1, 1, N, 7]",
		FormatYOLOv5: "[1, N, 5+classes] (N > 5+classes)",
		FormatYOLOv8: "[1, 4+classes, N] (N > 4+classes)",
	}[format]
	msg := fmt.Sprintf("network output is %v but detect.model_format %s expects %s with person class %d", shape, format, want, personClass)
	if g := guessFormat(shape); g != "" && g != format {
		msg += fmt.Sprintf("; the shape looks like %s: set detect.model_format: %s", g, g)
	}
	return fmt.Errorf("detect: %w: %s", ErrModel, msg)
}

// guessFormat names the layout a shape most likely is, or "".
func guessFormat(shape []int) string {
	switch {
	case len(shape) == 4 && shape[0] == 1 && shape[1] == 1 && shape[3] == 7:
		return FormatSSD
	case len(shape) == 3 && shape[0] == 1 && shape[2] > 5 && shape[1] > shape[2]:
		return FormatYOLOv5
	case len(shape) == 3 && shape[0] == 1 && shape[1] > 4 && shape[2] > shape[1]:
		return FormatYOLOv8
	}
	return ""
}

// checkLayout says whether shape is format's layout with room for personClass.
func checkLayout(format string, shape []int, personClass int) error {
	ok := false
	switch format {
	case FormatSSD:
		ok = len(shape) == 4 && shape[0] == 1 && shape[1] == 1 && shape[3] == 7
	case FormatYOLOv5:
		// Every export has more candidates than values per candidate
		// (25,200 x 85 at 640x640), which tells the two YOLO layouts apart.
		ok = len(shape) == 3 && shape[0] == 1 && shape[2] > 5+personClass && shape[1] > shape[2]
	case FormatYOLOv8:
		ok = len(shape) == 3 && shape[0] == 1 && shape[1] > 4+personClass && shape[2] > shape[1]
	default:
		return fmt.Errorf("detect: unknown model format %q; use one of %v", format, Formats)
	}
	if !ok {
		return layoutError(format, shape, personClass)
	}
	return nil
}

// decode turns a network output into person boxes in the coordinates of
// the picture given to the network (size), keeping scores of at least
// floor. input is the network's input size; ratio is the letterbox scale
// of YOLO inputs (picture pixel = input pixel / ratio).
func decode(format string, out []float32, shape []int, personClass int, floor float64, size, input image.Point, ratio float64) []detection {
	bounds := image.Rectangle{Max: size}
	var dets []detection
	add := func(x0, y0, x1, y1, score float64) {
		if !(score >= floor) || math.IsInf(score, 0) { // NaN fails >=
			return
		}
		for _, v := range []float64{x0, y0, x1, y1} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return
			}
		}
		// Clamp before converting: a wild coordinate must not overflow int.
		c := func(v float64, hi int) int { return int(math.Round(min(max(v, -1), float64(hi)+1))) }
		r := image.Rect(c(x0, size.X), c(y0, size.Y), c(x1, size.X), c(y1, size.Y)).Intersect(bounds)
		if !r.Empty() {
			dets = append(dets, detection{rect: r, score: min(score, 1)})
		}
	}
	switch format {
	case FormatSSD:
		n := shape[2]
		w, h := float64(size.X), float64(size.Y)
		for i := range n {
			row := out[7*i : 7*i+7]
			if int(row[1]) != personClass {
				continue
			}
			add(float64(row[3])*w, float64(row[4])*h, float64(row[5])*w, float64(row[6])*h, float64(row[2]))
		}
	case FormatYOLOv5:
		n, stride := shape[1], shape[2]
		for i := range n {
			row := out[i*stride : (i+1)*stride]
			score := float64(row[4]) * float64(row[5+personClass])
			x0, y0, x1, y1 := centre(row[0], row[1], row[2], row[3], ratio)
			add(x0, y0, x1, y1, score)
		}
	case FormatYOLOv8:
		n := shape[2]
		at := func(r, i int) float32 { return out[r*n+i] }
		for i := range n {
			score := float64(at(4+personClass, i))
			x0, y0, x1, y1 := centre(at(0, i), at(1, i), at(2, i), at(3, i), ratio)
			add(x0, y0, x1, y1, score)
		}
	}
	return dets
}

// centre turns a YOLO centre box in input pixels into corners in picture pixels.
func centre(cx, cy, w, h float32, ratio float64) (x0, y0, x1, y1 float64) {
	x, y, hw, hh := float64(cx), float64(cy), float64(w)/2, float64(h)/2
	return (x - hw) / ratio, (y - hh) / ratio, (x + hw) / ratio, (y + hh) / ratio
}

// letterboxRatio is the scale dnn.cpp fits a picture of size into input with.
func letterboxRatio(size, input image.Point) float64 {
	return min(float64(input.X)/float64(size.X), float64(input.Y)/float64(size.Y))
}

// nms keeps the best-scoring box of each group overlapping by more than
// iou (greedy non-maximum suppression, as YOLO post-processing does).
func nms(dets []detection, iou float64) []detection {
	slices.SortStableFunc(dets, func(a, b detection) int { return cmp.Compare(b.score, a.score) })
	var keep []detection
	for _, d := range dets {
		if !slices.ContainsFunc(keep, func(k detection) bool { return zones.IoU(k.rect, d.rect) > iou }) {
			keep = append(keep, d)
		}
	}
	return keep
}
