package main

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// TestGeometry checks that the figure is drawn where its geometry says: for a
// figure wholly inside the frame, the painted box matches the analytic extent
// to within one pixel, and the box is never empty while any part is inside.
func TestGeometry(t *testing.T) {
	cases := []struct {
		name string
		w    walk
	}{
		{"default walk", walk{Width: 640, Height: 360, FPS: 10, Seconds: 8,
			Path: []point{{0.1, 0.6}, {0.9, 0.6}}, FigureHeight: 0.45}},
		{"enters from the left, turns", walk{Width: 320, Height: 240, FPS: 5, Seconds: 4,
			Path: []point{{-0.2, 0.5}, {0.5, 0.4}, {0.6, 0.9}}, FigureHeight: 0.3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			mask := gocv.NewMatWithSize(w.Height, w.Width, gocv.MatTypeCV8UC1)
			defer mask.Close()
			checked := 0
			for i := range w.frames() {
				mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
				f := w.figureAt(i)
				f.draw(&mask, 255)
				got, visible := painted(mask)
				if visible != w.inFrame(f) {
					t.Fatalf("frame %d: painted=%v but extent %d..%d x %d..%d in frame=%v",
						i, visible, f.minX, f.maxX, f.minY, f.maxY, w.inFrame(f))
				}
				inside := f.minX >= 0 && f.minY >= 0 && f.maxX < w.Width && f.maxY < w.Height
				if !inside {
					continue
				}
				checked++
				px := image.Rect(
					int(math.Round(got.X*float64(w.Width))), int(math.Round(got.Y*float64(w.Height))),
					int(math.Round((got.X+got.W)*float64(w.Width))), int(math.Round((got.Y+got.H)*float64(w.Height))))
				want := image.Rect(f.minX, f.minY, f.maxX+1, f.maxY+1)
				if d := maxDiff(px, want); d > 1 {
					t.Errorf("frame %d: painted box %v, geometry %v (off by %d px)", i, px, want, d)
				}
			}
			if checked == 0 {
				t.Fatal("no frame had the figure wholly inside")
			}
		})
	}
}

func TestPathEnds(t *testing.T) {
	w := walk{Width: 640, Height: 360, FPS: 10, Seconds: 8,
		Path: []point{{0.1, 0.6}, {0.5, 0.3}, {0.9, 0.6}}, FigureHeight: 0.45}
	cases := []struct {
		frame int
		want  point
	}{
		{0, w.Path[0]},
		{w.frames() - 1, w.Path[2]},
	}
	for _, tc := range cases {
		f := w.figureAt(tc.frame)
		cx := float64(f.torso.X) / float64(w.Width)
		if math.Abs(cx-tc.want.X) > 2.0/float64(w.Width) {
			t.Errorf("frame %d: centre x %.3f, want %.3f", tc.frame, cx, tc.want.X)
		}
	}
}

func maxDiff(a, b image.Rectangle) int {
	abs := func(v int) int { return max(v, -v) }
	return max(abs(a.Min.X-b.Min.X), abs(a.Min.Y-b.Min.Y), abs(a.Max.X-b.Max.X), abs(a.Max.Y-b.Max.Y))
}
