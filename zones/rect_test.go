package zones_test

import (
	"image"
	"math"
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

func TestIoU(t *testing.T) {
	a := image.Rect(0, 0, 10, 10)
	for _, tc := range []struct {
		b    image.Rectangle
		want float64
	}{
		{a, 1},
		{image.Rect(5, 0, 15, 10), 50.0 / 150},
		{image.Rect(10, 0, 20, 10), 0}, // touching edges share no pixel
		{image.Rect(2, 2, 4, 4), 4.0 / 100},
		{image.Rectangle{}, 0},
	} {
		if got := zones.IoU(a, tc.b); math.Abs(got-tc.want) > 1e-12 || got != zones.IoU(tc.b, a) {
			t.Errorf("IoU(%v, %v) = %v, want %v (and symmetric)", a, tc.b, got, tc.want)
		}
	}
}
