package detect_test

import (
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/detect"
)

// TestSmallZoneDoesNotCrash is the crash of issue 10: a monitored zone of
// about 150x60 pixels on vtest's 768x576 made OpenCV's HOG corrupt the heap
// and kill the process. Such an area cannot hold a 64x128 HOG window: it is
// skipped and counted, and the result says nothing was analysed.
func TestSmallZoneDoesNotCrash(t *testing.T) {
	zone := rect(300.0/768, 300.0/576, 450.0/768, 360.0/576) // 150x60 px
	set := floorSet(zone, t0.Add(time.Hour))
	frames := masked(t, set, readVtest(t, 3, 5))
	res, st := runStage(t, detect.Config{Zones: set, Width: 640, Clock: clock.Live(func() time.Time { return t0 })}, frames)
	if len(res) != 3 {
		t.Fatalf("%d results for 3 frames", len(res))
	}
	for i, r := range res {
		if len(r.Active) != 0 || len(r.Boxes) != 0 {
			t.Errorf("result %d: active %v boxes %v, want nothing analysed", i, r.Active, r.Boxes)
		}
	}
	s := st.Stats()
	if s.TooSmall != 3 || s.Analysed != 0 || s.Errors != 0 {
		t.Errorf("stats %+v, want 3 too small, none analysed, no errors", s)
	}
}

// TestDetectorsRefuseTinyPictures calls each detector directly (no stage
// in front) with pictures smaller than its window, BGR and grey.
func TestDetectorsRefuseTinyPictures(t *testing.T) {
	for _, kind := range []detect.Config{{Kind: "hog"}, {Kind: "haar", Model: fullbody}} {
		d, err := detect.NewDetector(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, sz := range [][2]int{{150, 60}, {3, 3}, {16, 16}, {1280, 1}, {1, 1280}} {
			for _, grey := range []bool{false, true} {
				m := bgr(sz[0], sz[1])
				if grey {
					gocv.CvtColor(m, &m, gocv.ColorBGRToGray)
				}
				_, err := d.Detect(m)
				m.Close()
				win := d.Window()
				small := sz[0] < win.X || sz[1] < win.Y
				if small != (err != nil) {
					t.Errorf("%s %dx%d grey %v (window %v): err %v", kind.Kind, sz[0], sz[1], grey, win, err)
				}
			}
		}
		d.Close()
	}
}
