package detect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/motion"
	"github.com/edgeprivacy/edge/zones"
)

// timedFrames masks mats (taking them) as frames every step of stream time.
func timedFrames(tb testing.TB, set *zones.Set, mats []gocv.Mat, step time.Duration) []*mask.Frame {
	tb.Helper()
	ms, err := mask.New(mask.Config{Zones: set})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*mask.Frame, 0, len(mats))
	for i, m := range mats {
		f, err := ms.Apply(decode.Frame{Pic: toYUV(tb, m), Seq: uint64(i), PTS: time.Duration(i) * step, Received: t0})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestMotionCropsFindWhatTheWholeAreaFinds: on vtest's walkers at 5 fps,
// HOG on the moving parts of the walkway (the live cameras' way) finds the
// people HOG finds on the whole walkway, for well under half the pixels.
// Fails if the crops miss people (recall) or are the whole area (pixels).
func TestMotionCropsFindWhatTheWholeAreaFinds(t *testing.T) {
	// The bench's zones: a privacy strip on the left, the walkway.
	walkway := zones.Polygon{{X: 0.26, Y: 0.22}, {X: 1, Y: 0.12}, {X: 1, Y: 0.95}, {X: 0.26, Y: 0.62}}
	set := floorSet(walkway, t0.Add(time.Hour), zones.Zone{ID: "strip", Kind: zones.Privacy, Polygon: rect(0, 0, 0.25, 1)})
	const n = 15 // 3 s at 5 fps: the whole area once, at the start
	frames := timedFrames(t, set, readVtest(t, n, 2), 200*time.Millisecond)
	defer func() {
		for _, f := range frames {
			f.Close()
		}
	}()
	run := func(crops bool) ([]detect.Result, detect.Stats) {
		st, err := detect.New(detect.Config{Zones: set, Width: 640, MinScore: 0.5, MotionCrops: crops,
			Clock: clock.Live(func() time.Time { return t0 })})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var res []detect.Result
		for _, f := range frames {
			r, err := st.Process(f)
			if err != nil {
				t.Fatal(err)
			}
			res = append(res, r)
		}
		return res, st.Stats()
	}
	whole, ws := run(false)
	crops, cs := run(true)
	found, total := 0, 0
	for i := range frames {
		if len(crops[i].Active) != 1 {
			t.Errorf("frame %d: active %v with motion crops, want the walkway", i, crops[i].Active)
		}
		for _, a := range whole[i].Boxes {
			total++
			for _, b := range crops[i].Boxes {
				if zones.IoU(a.Rect, b.Rect) >= 0.5 {
					found++
					break
				}
			}
		}
	}
	recall := float64(found) / float64(max(1, total))
	share := float64(cs.Pixels) / float64(max(1, ws.Pixels))
	t.Logf("whole area: %d boxes, %d crops, %d pixels; motion crops: %d crops, %d pixels (%.0f%%), recall %.2f (%d of %d)",
		total, ws.Crops, ws.Pixels, cs.Crops, cs.Pixels, 100*share, recall, found, total)
	if total < n {
		t.Fatalf("degenerate test: %d boxes on the whole walkway in %d frames", total, n)
	}
	if recall < 0.8 {
		t.Errorf("motion crops found %d of the %d people found on the whole walkway (%.2f), want at least 0.8", found, total, recall)
	}
	if share > 0.5 {
		t.Errorf("motion crops gave the detector %.0f%% of the whole area's pixels, want at most 50%%", 100*share)
	}
}

// TestMotionCropsAnalyseWholeAreaAgain: a still scene gives no crops (and
// no detector call) between whole-area looks, which come back every
// FullEvery of stream time.
func TestMotionCropsAnalyseWholeAreaAgain(t *testing.T) {
	set := floorSet(rect(0, 0, 1, 1), t0.Add(time.Hour))
	mats := make([]gocv.Mat, 8)
	for i := range mats {
		mats[i] = bgr(320, 240)
	}
	step := detect.FullEvery / 4
	frames := timedFrames(t, set, mats, step)
	rec := &recorder{}
	st, err := detect.New(detect.Config{Zones: set, Width: 640, Detector: rec, MotionCrops: true,
		Clock: clock.Live(func() time.Time { return t0 })})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls []string
	for _, f := range frames {
		before := st.Stats().Crops
		r, err := st.Process(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Active) != 1 {
			t.Errorf("frame %d: active %v, want the floor (analysed, if by no call)", r.Seq, r.Active)
		}
		calls = append(calls, fmt.Sprint(st.Stats().Crops-before))
	}
	// Frames 0 and 4 are FullEvery apart: whole area; the rest did not change.
	if got, want := fmt.Sprint(calls), "[1 0 0 0 1 0 0 0]"; got != want {
		t.Errorf("detector calls per frame %s, want %s", got, want)
	}
	if s := st.Stats(); s.Pixels != 2*320*240 {
		t.Errorf("pixels %d, want two whole frames (%d)", s.Pixels, 2*320*240)
	}
}

// TestMotionCropsFromTheGate: the way live cameras run. vtest at 10 fps
// goes through the motion gate, and one frame a second of those it passes
// is detected on (what the shared pool serves a busy camera): crops of the
// gate's note (the change since the frame before, not since the last
// detection) and of the people found last find what the whole walkway
// gives, for well under half its pixels.
func TestMotionCropsFromTheGate(t *testing.T) {
	walkway := zones.Polygon{{X: 0.26, Y: 0.22}, {X: 1, Y: 0.12}, {X: 1, Y: 0.95}, {X: 0.26, Y: 0.62}}
	set := floorSet(walkway, t0.Add(time.Hour), zones.Zone{ID: "strip", Kind: zones.Privacy, Polygon: rect(0, 0, 0.25, 1)})
	const n = 100 // 10 s at 10 fps: the whole area once, at the start
	in := make(chan *mask.Frame, n)
	for _, f := range timedFrames(t, set, readVtest(t, n, 1), 100*time.Millisecond) {
		in <- f
	}
	close(in)
	g, err := motion.New(motion.Config{Zones: set, Block: true, Clock: clock.Live(func() time.Time { return t0 })})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *mask.Frame, n)
	if err := g.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var frames []*mask.Frame
	for f := range out {
		if f.PTS()%time.Second == 0 {
			frames = append(frames, f)
		} else {
			f.Close()
		}
	}
	defer func() {
		for _, f := range frames {
			f.Close()
		}
	}()
	run := func(crops bool) ([]detect.Result, detect.Stats) {
		st, err := detect.New(detect.Config{Zones: set, Width: 640, MinScore: 0.5, MotionCrops: crops,
			Clock: clock.Live(func() time.Time { return t0 })})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var res []detect.Result
		for _, f := range frames {
			r, err := st.Process(f)
			if err != nil {
				t.Fatal(err)
			}
			res = append(res, r)
		}
		return res, st.Stats()
	}
	whole, ws := run(false)
	crops, cs := run(true)
	found, total := 0, 0
	for i := range frames {
		for _, a := range whole[i].Boxes {
			total++
			for _, b := range crops[i].Boxes {
				if zones.IoU(a.Rect, b.Rect) >= 0.5 {
					found++
					break
				}
			}
		}
	}
	recall := float64(found) / float64(max(1, total))
	share := float64(cs.Pixels) / float64(max(1, ws.Pixels))
	t.Logf("%d frames: whole area %d boxes, %d pixels; gate's crops: %d crops, %d pixels (%.0f%%), recall %.2f (%d of %d)",
		len(frames), total, ws.Pixels, cs.Crops, cs.Pixels, 100*share, recall, found, total)
	if len(frames) < 5 || total < len(frames) {
		t.Fatalf("degenerate test: %d frames, %d boxes on the whole walkway", len(frames), total)
	}
	if recall < 0.8 {
		t.Errorf("crops found %d of the %d people found on the whole walkway (%.2f), want at least 0.8", found, total, recall)
	}
	if share > 0.5 {
		t.Errorf("crops gave the detector %.0f%% of the whole area's pixels, want at most 50%%", 100*share)
	}
}
