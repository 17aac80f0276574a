package detect_test

import (
	"image"
	"slices"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/zones"
)

// TestWholeBodiesFeetDecide runs the stage on a ground-level zone with a
// privacy door above it, where heads would be: the detector sees the zone
// and the body space above it, the door stays painted, every other pixel
// is grey, and a box reaching below the region keeps its true feet.
func TestWholeBodiesFeetDecide(t *testing.T) {
	const w, h = 200, 200
	door := zones.Zone{ID: "door", Kind: zones.Privacy, Polygon: rect(0.4, 0.3, 0.6, 0.5)}
	set := floorSet(rect(0.1, 0.7, 0.9, 0.9), t0.Add(time.Hour), door).WithPersonHeight(0.5)
	am := set.AnalysisMask(w, h, t0)
	x0, y0, x1, y1 := am.Bounds()
	if got, want := image.Rect(x0, y0, x1, y1), image.Rect(19, 39, 181, 181); got != want {
		t.Fatalf("analysis region bounds %v, want %v (zone raised by half the frame)", got, want)
	}
	var got gocv.Mat
	defer func() { got.Close() }()
	rec := &recorder{boxes: func(img gocv.Mat) []detect.Box {
		got = img.Clone()
		// A person whose box runs 30 px below the crop: feet outside the zone.
		return []detect.Box{{Rect: image.Rect(10, img.Rows()-100, 40, img.Rows()+30), Score: 0.9}}
	}}
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 200, 30, 0), h, w, gocv.MatTypeCV8UC3)
	shown := roundTrip(t, m, detect.InputBGR) // the colour after YUV 4:2:0 and back
	res, _ := runStage(t, detect.Config{Zones: set, Detector: rec, Width: 640, Clock: clock.Live(func() time.Time { return t0 })},
		masked(t, set, []gocv.Mat{m}))
	if got.Empty() || len(res) != 1 || len(res[0].Boxes) != 1 {
		t.Fatalf("results %+v", res)
	}
	if b := res[0].Boxes[0].Rect; b != image.Rect(x0+10, y1-100, x0+40, h) {
		t.Errorf("box %v, want %v: not clipped to the region, only to the frame", b, image.Rect(x0+10, y1-100, x0+40, h))
	}
	data, err := got.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	priv := set.PrivacyMask(w, h)
	body, painted := 0, 0
	for y := 0; y < got.Rows(); y++ {
		for x := 0; x < got.Cols(); x++ {
			px := data[(y*got.Cols()+x)*3 : (y*got.Cols()+x)*3+3]
			fx, fy := x0+x, y0+y
			switch {
			case priv.Contains(fx, fy):
				painted++
				if slices.Equal(px, shown) {
					t.Fatalf("privacy pixel (%d,%d) reached the detector", fx, fy)
				}
			case am.Contains(fx, fy):
				if fy < 140 {
					body++
				}
				if !slices.Equal(px, shown) && !sharesChroma(priv, fx, fy) {
					t.Fatalf("region pixel (%d,%d) = %v, want the picture", fx, fy, px)
				}
			default:
				if !slices.Equal(px, []byte{detect.Grey, detect.Grey, detect.Grey}) {
					t.Fatalf("pixel (%d,%d) outside the region = %v, want grey", fx, fy, px)
				}
			}
		}
	}
	if body == 0 || painted == 0 {
		t.Fatalf("degenerate: %d body pixels above the zone, %d privacy pixels in the crop", body, painted)
	}
}
