package detect_test

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/detect"
)

// TestUpscalePlacement: with Upscale 2 the detector gets the analysis
// region at twice its size, and a box it finds maps back to half its size
// in frame pixels, at the region's corner.
func TestUpscalePlacement(t *testing.T) {
	const w, h = 200, 200
	set := floorSet(rect(0.25, 0.6, 0.75, 0.9), t0.Add(time.Hour)).WithPersonHeight(0.3)
	am := set.AnalysisMask(w, h, t0)
	x0, y0, x1, y1 := am.Bounds()
	var seen image.Point
	rec := &recorder{boxes: func(img gocv.Mat) []detect.Box {
		seen = image.Pt(img.Cols(), img.Rows())
		return []detect.Box{{Rect: image.Rect(20, 40, 60, 120), Score: 0.9}}
	}}
	res, _ := runStage(t, detect.Config{Zones: set, Detector: rec, Width: 640, Upscale: 2, Clock: clock.Live(func() time.Time { return t0 })},
		masked(t, set, []gocv.Mat{bgr(w, h)}))
	if want := image.Pt(2*(x1-x0), 2*(y1-y0)); seen != want {
		t.Fatalf("detector saw %v, want the %v region at twice its size %v", seen, image.Rect(x0, y0, x1, y1), want)
	}
	if len(res) != 1 || len(res[0].Boxes) != 1 {
		t.Fatalf("results %+v", res)
	}
	if got, want := res[0].Boxes[0].Rect, image.Rect(x0+10, y0+20, x0+30, y0+60); got != want {
		t.Errorf("box %v in the frame, want %v", got, want)
	}
	// Width caps first, upscale applies after: a 400 px wide region with
	// width 200 and upscale 1.5 is given at 300.
	p, _ := detect.Plan(set.AnalysisMask(800, 800, t0), 200, 1.5)
	if p.Size.X != 300 {
		t.Errorf("planned %v, want 300 wide", p.Size)
	}
	// The smallest box a detector can report is its window at that scale:
	// HOG's 128 px at 0.75 of the frame's size is 171 px of the frame
	// (TestUpscaleFindsSmallPeople checks the results say so).
	if got := p.MinHeight(image.Pt(64, 128)); got != 171 {
		t.Errorf("smallest box %d px, want 171 (128 / 0.75)", got)
	}
}

// TestUpscaleFindsSmallPeople runs HOG over vtest, where most people are
// 50 to 110 pixels tall: at the frame's own size HOG reports no box under
// its 128 pixel window, so the smaller people are lost; enlarged 1.5 times
// it finds boxes down to about 85 pixels, and more people.
func TestUpscaleFindsSmallPeople(t *testing.T) {
	set := floorSet(rect(0.3, 0.3, 1, 0.95), t0.Add(time.Hour)).WithPersonHeight(0.4)
	count := func(up float64) (all, small int) {
		res, _ := runStage(t, detect.Config{Zones: set, Width: 768, Upscale: up, Clock: clock.Live(func() time.Time { return t0 })},
			masked(t, set, readVtest(t, 4, 30)))
		want := int(128/up + 0.5)
		for _, r := range res {
			// Each result says how small a box HOG can give at this
			// scale (the tracker holds people lost under it), and none
			// is smaller (boxes are rounded to the pixel).
			if r.MinHeight != want {
				t.Errorf("upscale %v: result's smallest box %d px, want %d", up, r.MinHeight, want)
			}
			for _, b := range r.Boxes {
				all++
				if b.Rect.Dy() < 120 {
					small++
				}
				if b.Rect.Dy() < r.MinHeight-1 && b.Rect.Max.Y < 576 {
					t.Errorf("upscale %v: a %d px box, under the %d px the result says HOG can give", up, b.Rect.Dy(), r.MinHeight)
				}
			}
		}
		return all, small
	}
	all1, small1 := count(1)
	all15, small15 := count(1.5)
	t.Logf("boxes over 4 frames: %d at upscale 1 (%d under 120 px), %d at 1.5 (%d under 120 px)", all1, small1, all15, small15)
	if small1 != 0 {
		t.Errorf("%d boxes under 120 px without upscaling: HOG's window is 128 px tall", small1)
	}
	if small15 == 0 || all15 <= all1 {
		t.Errorf("upscale 1.5 found %d boxes (%d small), upscale 1 found %d: enlarging the crop should find the smaller people", all15, small15, all1)
	}
}
