package verify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/internal/verify"
)

// TestAccuracyOnLabelledClip runs testvideos/vtest.mp4 through the
// production stages with configs/demo.yaml and scores the events against
// the hand-labelled truth, detecting on the whole analysis area of every
// sampled frame and, as live cameras do, on motion crops. An offline run
// never drops frames and HOG is deterministic, so the figures are the same
// on every machine; the test holds the targets (docs/accuracy.md),
// MAE at the measured 0.36, and the latency each way measured.
func TestAccuracyOnLabelledClip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 45 s clip through HOG")
	}
	for _, c := range []struct {
		motionCrops bool
		detection   string
		latency     float64
	}{
		// Measured (Dec 2026, docs/accuracy.md) with HOG on grey crops at
		// the default 10 fps, the tracker holding people beyond the
		// detector's range and keeping a person's size through a box
		// around two: precision 0.92, recall 0.92, 1.00 enters per real
		// visit, MAE 0.30, latency p50 0.50 s (at 5 fps 0.92, 0.92, 1.00,
		// 0.34, 0.70 s; before the size fix 0.85, 0.92, 1.08, 0.33, 0.70 s;
		// latency was 0 s while enters were paired with visits closest in
		// time first, regardless of place: in a crowd, with someone
		// else's entry; before the hold beyond range 0.79, 0.92, 1.17,
		// 0.43, 0 s; on BGR crops 0.86, 1.00, 1.17, 0.55, 0.70 s; before
		// the tracker's size gate and reclaiming rules 0.80, 1.00, 1.25,
		// 0.62; earlier, without upscaling, 0.50, 0.75, 1.50, 1.06).
		// TestReplayLabelledClip holds the same on the logged boxes.
		{false, verify.DetectWholeArea, 0.5},
		// Measured: 0.92, 0.92, 1.00, MAE 0.28, latency p50 0.60 s (two
		// people found a frame later than on the whole area, one 0.4 s
		// sooner: HOG's windows fall elsewhere on a smaller crop).
		{true, verify.DetectMotionCrops, 0.6},
	} {
		rep, err := verify.Run(context.Background(), verify.Config{
			ConfigPath: "../../configs/demo.yaml", Camera: "lobby", Video: "../../testvideos/vtest.mp4",
			Truth: "../../testvideos/vtest.truth.json", Samples: -1, Version: "test",
			Start: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), MotionCrops: c.motionCrops,
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Detection != c.detection {
			t.Errorf("report says detection %q, want %q", rep.Detection, c.detection)
		}
		a := rep.Accuracy
		if a == nil {
			t.Fatal("no accuracy in the report")
		}
		t.Logf("vtest, %s: %d visits, %d enters, precision %.2f, recall %.2f, enters/visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), latency p50 %.2f p90 %.2f",
			c.detection, a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
		if msg := belowFloor(&a.Scores, c.latency); msg != "" {
			t.Errorf("%s: %s", c.detection, msg)
		}
	}
}

// belowFloor says what of a fell below the floor measured on vtest, or "":
// the targets (precision and recall 0.9, 1.1 enters per visit,
// MAE 0.5) with MAE held at the measured 0.36, and latency p50 at most
// latency seconds.
func belowFloor(a *groundtruth.Scores, latency float64) string {
	if a.Visits != 12 || a.Precision < 0.9 || a.Recall < 0.9 || a.EntersPerVisit > 1.1 || a.OccupancyMAE > 0.36 || a.LatencyP50 > latency+1e-9 {
		return fmt.Sprintf("counting accuracy fell below the measured floor (12 visits, precision >= 0.9, recall >= 0.9, enters per visit <= 1.1, MAE <= 0.36, latency p50 <= %.2f s): %d visits, %d enters, %d matched, precision %.3f, recall %.3f, enters per visit %.3f, MAE %.3f, latency p50 %.3f s",
			latency, a.Visits, a.Enters, a.Matched, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.LatencyP50)
	}
	return ""
}

func TestTruthInputErrors(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte(`{"camera": "gate", "duration_s": 10, "visits": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]verify.Config{
		"missing file":                {Truth: filepath.Join(dir, "nosuch.json"), Video: "../../testvideos/vtest.mp4"},
		"another camera":              {Truth: other, Video: "../../testvideos/vtest.mp4"},
		"with a recording":            {Truth: "../../testvideos/vtest.truth.json", Recording: "../../testvideos/vtest.mp4"},
		"motion crops of a recording": {MotionCrops: true, Recording: "../../testvideos/vtest.mp4"},
	} {
		cfg.ConfigPath, cfg.Camera = "../../configs/demo.yaml", "lobby"
		if _, err := verify.Run(context.Background(), cfg); !errors.Is(err, verify.ErrInput) {
			t.Errorf("%s: err %v, want ErrInput", name, err)
		}
	}
}

// TestReplayLabelledClip runs the tracker over HOG's boxes on vtest.mp4 as
// edge verify --detections logged them (testdata: 640 wide, upscale 1.25,
// person_height 0.4, min_score 0.01, so every box HOG gives; at the default
// 10 fps and at 5), with configs/demo.yaml's settings, and scores it
// against the hand-labelled truth. It is TestAccuracyOnLabelledClip
// without the minute of HOG: the figures must match what a full run of
// the current code gives, as long as the detector gives the logged boxes
// (docs/accuracy.md says how to record the logs again after a change to
// detection).
func TestReplayLabelledClip(t *testing.T) {
	truth, err := groundtruth.Load("../../testvideos/vtest.truth.json")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cam, _ := conf.Camera("lobby")
	for _, c := range []struct {
		log string
		fps float64
		// latency is the p50 floor: the target at the default rate; at
		// 5 fps the measured 0.70 s (docs/accuracy.md).
		latency float64
	}{
		// Measured: precision 0.92, recall 0.92, 1.00 enters per real
		// visit, MAE 0.30, latency p50 0.50 s (TestAccuracyOnLabelledClip).
		{"testdata/vtest-10fps-640-up1.25.detections.json", configs.DefaultFPS, 0.5},
		// Measured: 0.92, 0.92, 1.00, MAE 0.34, latency p50 0.70 s. The
		// log predates results carrying the detector's smallest box;
		// Replay works it out as the stage does (102 px here).
		{"testdata/vtest-5fps-640-up1.25.detections.json", 5, 0.7},
	} {
		l, err := verify.ReadDetections(c.log)
		if err != nil {
			t.Fatal(err)
		}
		at := *cam
		at.Detect.FPS = c.fps
		evs, err := verify.Replay(l, conf, &at, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		a := groundtruth.Score(truth, evs)
		for _, f := range a.Found {
			t.Logf("%v fps: visit %s entered %.2f: enter %.2f (track %d)", c.fps, f.Person, f.Enter, f.At, f.Track)
		}
		for _, e := range a.Extra {
			t.Logf("%v fps: enter paired with no visit: %.2f (track %d)", c.fps, e.T, e.Track)
		}
		t.Logf("vtest replay at %v fps: %d visits, %d enters, precision %.2f, recall %.2f, enters/visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), latency p50 %.2f p90 %.2f",
			c.fps, a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
		if msg := belowFloor(&a, c.latency); msg != "" {
			t.Errorf("logged boxes at %v fps: %s", c.fps, msg)
		}

		// A log is refused for settings it was not recorded with.
		other := at
		other.Detect.FPS = c.fps * 2
		if _, err := verify.Replay(l, conf, &other, time.Time{}); err == nil {
			t.Errorf("a %v fps log replayed for a %v fps camera", c.fps, other.Detect.FPS)
		}
		other = at
		other.Detect.Upscale = 1
		if _, err := verify.Replay(l, conf, &other, time.Time{}); err == nil {
			t.Error("a log of crops enlarged 1.25 times replayed for a camera that does not enlarge them")
		}
	}
}

// TestReportListsEachVisit: report.html shows which enter each labelled
// visit was paired with, the visits not found and the enters paired with
// none, so an inspector can check the figures against the timeline.
func TestReportListsEachVisit(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 20, Visits: []groundtruth.Visit{
		{Zone: "walkway", Person: "Gwen", Enter: 11.3, Exit: 18},
		{Zone: "walkway", Person: "Quinn", Enter: 14, Exit: 20},
	}}
	s := groundtruth.Score(truth, []groundtruth.Event{
		{T: 12.6, Type: "enter", Zone: "walkway", Track: 10, Occupancy: 1},
		{T: 17.5, Type: "enter", Zone: "walkway", Track: 11, Occupancy: 2},
	})
	rep := &verify.Report{Detection: verify.DetectMotionCrops, Accuracy: &verify.Accuracy{Truth: "t.json", Scores: s}}
	dir := filepath.Join(t.TempDir(), "out")
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		`matched (entry within 1.5 s)`,
		`Detection: motion crops, as live cameras (--motion-crops).`,
		`<td>Gwen</td><td>walkway</td><td class="n">11.30 s</td><td class="n">12.60 s</td><td class="n">10</td><td class="n">1.30 s</td>`,
		`<td>Quinn</td><td>walkway</td><td class="n">14.00 s</td><td colspan="3"><b>not found</b>`,
		`<b>enter paired with no visit</b></td><td class="n">17.50 s</td><td class="n">11</td>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
}
