package bench

import (
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/latency"
	"github.com/edgeprivacy/edge/pipeline"
)

// TestJudge feeds the criteria of sustained one failure at a time: each must
// be named, and a camera that meets them all must pass.
func TestJudge(t *testing.T) {
	var fast, slow latency.Histogram
	for range 100 {
		fast.Observe(50e6) // 50 ms
		slow.Observe(3e9)  // 3 s
	}
	good := pipeline.Stats{Received: 110, Decoded: 109, Masked: 108, MotionEvaluated: 100, MotionPassed: 100,
		DetectRequested: 20, DetectServed: 10, DetectSkipped: 10, Drops: map[string]uint64{"ingest": 0},
		ResultLatency: fast.Snapshot()}
	start := pipeline.Stats{Received: 10, Decoded: 9, Masked: 8, Drops: map[string]uint64{}}
	for _, tc := range []struct {
		name     string
		edit     func(s *pipeline.Stats)
		want     string
		restarts int
	}{
		{name: "meets every criterion"},
		{name: "ingest drop", edit: func(s *pipeline.Stats) { s.Drops = map[string]uint64{"ingest": 3} }, want: "dropped (ingest)"},
		{name: "stale drop", edit: func(s *pipeline.Stats) { s.Drops = map[string]uint64{"stale": 2} }, want: "dropped (stale)"},
		{name: "mask busy", edit: func(s *pipeline.Stats) { s.Drops = map[string]uint64{"mask_busy": 1} }, want: "dropped (mask_busy)"},
		{name: "backlog", edit: func(s *pipeline.Stats) { s.Masked = 70 }, want: "only"},
		{name: "camera starved", edit: func(s *pipeline.Stats) { s.Received, s.Decoded, s.Masked = 60, 60, 60 }, want: "fps of a 10.0 fps clip"},
		{name: "slow motion", edit: func(s *pipeline.Stats) { s.MotionEvaluated = 40 }, want: "motion evaluated"},
		{name: "no detections", edit: func(s *pipeline.Stats) { s.DetectServed = 5 }, want: "detections for"},
		{name: "late results", edit: func(s *pipeline.Stats) { s.ResultLatency = slow.Snapshot() }, want: "p99 arrival to detection result"},
		{name: "restart", restarts: 1, want: "restarted"},
		{name: "events lost", edit: func(s *pipeline.Stats) { s.Events = 2 }, want: "events made but 0 delivered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			if tc.edit != nil {
				tc.edit(&s)
			}
			c := cameraFigures("cam001", start, s, latency.Snapshot{}, 10, 10, tc.restarts)
			if tc.want == "" {
				if !c.Sustained {
					t.Fatalf("not sustained: %q", c.Why)
				}
				return
			}
			if c.Sustained || !strings.Contains(strings.Join(c.Why, "; "), tc.want) {
				t.Fatalf("sustained %v, why %q; want a reason with %q", c.Sustained, c.Why, tc.want)
			}
		})
	}
}

// TestLateEventsFailTheRun: an event delivered more than a second after its
// frame arrived fails the whole run even when every camera passed.
func TestLateEventsFailTheRun(t *testing.T) {
	var late latency.Histogram
	late.Observe(2e9)
	r := &Report{Cameras: 1, Seconds: 10, PerCamera: []Camera{{ID: "cam001", Sustained: true, event: late.Snapshot()}}}
	r.total()
	if r.Sustained || !strings.Contains(strings.Join(r.Why, ";"), "event delivered") {
		t.Fatalf("sustained %v, why %q", r.Sustained, r.Why)
	}
	r = &Report{Cameras: 2, Seconds: 10, PerCamera: []Camera{{ID: "cam001", Sustained: true}}}
	r.total()
	if r.Sustained {
		t.Fatal("sustained with one of two cameras missing")
	}
}

// TestPeopleWithoutEventsFailTheRun: a window where the detector found
// people but no event arrived cannot vouch for the arrival-to-event
// latency, so it is not sustained (the bench once subscribed to a topic
// nothing was published on, and every run passed with 0 events).
func TestPeopleWithoutEventsFailTheRun(t *testing.T) {
	var ev latency.Histogram
	ev.Observe(100e6)
	for _, tc := range []struct {
		name      string
		cam       Camera
		sustained bool
	}{
		{"people and an event", Camera{ID: "cam001", Sustained: true, People: 40, EventsMade: 1, event: ev.Snapshot()}, true},
		{"people, no event made", Camera{ID: "cam001", Sustained: true, People: 40}, false},
		{"no people, no event", Camera{ID: "cam001", Sustained: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cam.Events = tc.cam.event.Count()
			r := &Report{Cameras: 1, Seconds: 10, PerCamera: []Camera{tc.cam}}
			r.total()
			if r.Sustained != tc.sustained {
				t.Fatalf("sustained %v, want %v; why %q", r.Sustained, tc.sustained, r.Why)
			}
			if !tc.sustained && !strings.Contains(strings.Join(r.Why, ";"), "no event was delivered") {
				t.Fatalf("why %q does not say that no event was delivered", r.Why)
			}
		})
	}
}
