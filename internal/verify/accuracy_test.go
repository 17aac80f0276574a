package verify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/internal/verify"
)

// TestAccuracyOnLabelledClip runs testvideos/vtest.mp4 through the
// production stages with configs/demo.yaml and scores the events against
// the hand-labelled truth. An offline run never drops frames and HOG is
// deterministic, so the figures are the same on every machine; the test
// holds the floor measured (docs/accuracy.md), still below one of the
// issue's targets (precision 0.9): raise the floors as counting improves.
func TestAccuracyOnLabelledClip(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 45 s clip through HOG")
	}
	rep, err := verify.Run(context.Background(), verify.Config{
		ConfigPath: "../../configs/demo.yaml", Camera: "lobby", Video: "../../testvideos/vtest.mp4",
		Truth: "../../testvideos/vtest.truth.json", Samples: -1, Version: "test",
		Start: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Accuracy
	if a == nil {
		t.Fatal("no accuracy in the report")
	}
	t.Logf("vtest: %d visits, %d enters, precision %.2f, recall %.2f, enters/visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), latency p50 %.2f p90 %.2f",
		a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
	// Measured (Dec 2026, docs/accuracy.md) with HOG on grey crops and the
	// tracker holding people beyond the detector's range: precision 0.85,
	// recall 0.92, 1.08 enters per real visit, MAE 0.33, latency p50 0 s
	// (before that hold 0.79, 0.92, 1.17, 0.43, 0 s; on BGR crops 0.86,
	// 1.00, 1.17, 0.55, 0.70 s; before the tracker's
	// size gate and reclaiming rules 0.80, 1.00, 1.25, 0.62; earlier, without
	// upscaling, 0.50, 0.75, 1.50, 1.06). The floor sits just below;
	// TestReplayLabelledClip holds the same on the logged boxes.
	if msg := belowFloor(&a.Scores); msg != "" {
		t.Error(msg)
	}
}

// belowFloor says what of a fell below the floor measured on vtest, or "".
// Recall, enters per visit, MAE and latency are at the targets
// (0.9, 1.1, 0.5, 0.5 s); precision is not yet (0.9).
func belowFloor(a *groundtruth.Scores) string {
	if a.Visits != 12 || a.Precision < 0.84 || a.Recall < 0.9 || a.EntersPerVisit > 1.1 || a.OccupancyMAE > 0.36 || a.LatencyP50 > 0.5 {
		return fmt.Sprintf("counting accuracy fell below the measured floor (12 visits, precision >= 0.84, recall >= 0.9, enters per visit <= 1.1, MAE <= 0.36, latency p50 <= 0.5 s): %+v", *a)
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
		"missing file":     {Truth: filepath.Join(dir, "nosuch.json"), Video: "../../testvideos/vtest.mp4"},
		"another camera":   {Truth: other, Video: "../../testvideos/vtest.mp4"},
		"with a recording": {Truth: "../../testvideos/vtest.truth.json", Recording: "../../testvideos/vtest.mp4"},
	} {
		cfg.ConfigPath, cfg.Camera = "../../configs/demo.yaml", "lobby"
		if _, err := verify.Run(context.Background(), cfg); !errors.Is(err, verify.ErrInput) {
			t.Errorf("%s: err %v, want ErrInput", name, err)
		}
	}
}

// TestReplayLabelledClip runs the tracker over HOG's boxes on vtest.mp4 as
// edge verify --detections logged them (testdata: 5 fps, 640 wide,
// upscale 1.25, person_height 0.4, min_score 0.01, so every box HOG gives), with
// configs/demo.yaml's settings, and scores it against the hand-labelled
// truth. It is TestAccuracyOnLabelledClip without the minutes of HOG: the
// figures must match what a full run of the current code gives, as long
// as the detector gives the logged boxes (docs/accuracy.md says how to
// record the log again after a change to detection).
func TestReplayLabelledClip(t *testing.T) {
	l, err := verify.ReadDetections("testdata/vtest-5fps-640-up1.25.detections.json")
	if err != nil {
		t.Fatal(err)
	}
	truth, err := groundtruth.Load("../../testvideos/vtest.truth.json")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cam, _ := conf.Camera("lobby")
	evs, err := verify.Replay(l, conf, cam, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	a := groundtruth.Score(truth, evs)
	t.Logf("vtest replay: %d visits, %d enters, precision %.2f, recall %.2f, enters/visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), latency p50 %.2f p90 %.2f",
		a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
	// Measured: precision 0.85, recall 0.92, 1.08 enters per real visit,
	// MAE 0.33, latency p50 0 s (grey crops; see TestAccuracyOnLabelledClip).
	// The log predates results carrying the detector's smallest box;
	// Replay works it out as the stage does (102 px here).
	if msg := belowFloor(&a); msg != "" {
		t.Error("logged boxes: " + msg)
	}

	// A log is refused for settings it was not recorded with.
	other := *cam
	other.Detect.FPS = 10
	if _, err := verify.Replay(l, conf, &other, time.Time{}); err == nil {
		t.Error("a 5 fps log replayed for a 10 fps camera")
	}
	other = *cam
	other.Detect.Upscale = 1
	if _, err := verify.Replay(l, conf, &other, time.Time{}); err == nil {
		t.Error("a log of crops enlarged 1.25 times replayed for a camera that does not enlarge them")
	}
}
