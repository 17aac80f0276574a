package verify

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/track"
)

// TestTuneOnLoggedDetections is a tool, not a check: given detection logs
// (edge verify --detections, with min_score low enough to keep the weak
// boxes) in EDGE_TUNE_LOGS (comma-separated), it scores a grid of tracker
// settings against testvideos/vtest.truth.json in milliseconds each and
// prints a table (docs/accuracy.md). Run:
//
//	EDGE_TUNE_LOGS=/tmp/det-5-640.json go test -run TestTuneOnLoggedDetections -v ./internal/verify/
func TestTuneOnLoggedDetections(t *testing.T) {
	logs := os.Getenv("EDGE_TUNE_LOGS")
	if logs == "" {
		t.Skip("set EDGE_TUNE_LOGS to detection logs to tune on")
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
	cc, err := pipeline.FromConfig(conf, cam)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	fmt.Fprintln(&b, "| log | min_score | track_score | hold s | min hits | exit after s | enters | precision | recall | enters/visit | MAE | p50 | p90 |")
	for _, path := range strings.Split(logs, ",") {
		l, err := ReadDetections(path)
		if err != nil {
			t.Fatal(err)
		}
		l = withMinHeight(l, cc, start)
		name := fmt.Sprintf("%g fps %d px", l.FPS, l.Width)
		for _, ms := range []float64{0.25, 0.35, 0.45, 0.5, 0.55, 0.6} {
			for _, ts := range []float64{0.4, 0.6, 0.7, 0.8} {
				if ts < ms {
					continue
				}
				for _, hold := range []float64{1, 2, 3, 4, 5, 6, 8, 10} {
					for _, hits := range []int{2, 3, 4} {
						for _, ea := range []float64{0.2, 0.4, 0.8} {
							tc := track.Config{Zones: cc.Zones, HighScore: ts, MinHits: hits,
								Hold: time.Duration(hold * float64(time.Second)), ExitAfter: time.Duration(ea * float64(time.Second))}
							s := groundtruth.Score(truth, replay(l, tc, ms, start))
							fmt.Fprintf(&b, "| %s | %.2f | %.2f | %g | %d | %g | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
								name, ms, ts, hold, hits, ea, s.Enters, s.Precision, s.Recall, s.EntersPerVisit, s.OccupancyMAE, s.LatencyP50, s.LatencyP90)
						}
					}
				}
			}
		}
	}
	t.Log("\n" + b.String())
}
