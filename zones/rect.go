package zones

import "image"

// IoU is the intersection over union of two boxes in pixels: 1 for the
// same box, 0 when they do not overlap. The tracker matches detections to
// tracks by it and the detector suppresses overlapping boxes with it.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	ua := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia
	if ua <= 0 {
		return 0
	}
	return ia / ua
}
