package groundtruth_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/groundtruth"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestScoreHandChecked: three labelled visits over 10 s; the run finds the
// first at once, splits the second into two tracks, misses the third and
// raises one false enter. Every figure is worked out by hand below.
func TestScoreHandChecked(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 10, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "a", Enter: 0, Exit: 4},  // there from the start
		{Zone: "w", Person: "b", Enter: 2, Exit: 8},  // split into two tracks
		{Zone: "w", Person: "c", Enter: 6, Exit: 10}, // missed
	}}
	ev := []groundtruth.Event{
		{T: 0.5, Type: "enter", Zone: "w", Track: 1, Occupancy: 1},
		{T: 3, Type: "enter", Zone: "w", Track: 2, Occupancy: 2}, // b, 1 s late
		{T: 4, Type: "exit", Zone: "w", Track: 1, Occupancy: 1},
		{T: 5, Type: "exit", Zone: "w", Track: 2, Occupancy: 0},   // b lost
		{T: 6, Type: "enter", Zone: "w", Track: 3, Occupancy: 1},  // b again; nearest c's entry: matches c
		{T: 9, Type: "enter", Zone: "x", Track: 4, Occupancy: 1},  // false, in another zone
		{T: 12, Type: "enter", Zone: "w", Track: 5, Occupancy: 2}, // after the labelled span: ignored
	}
	s := groundtruth.Score(truth, ev)
	// Enters in span: 4. Matched: a (0.5, dt .5), b (3, dt 1), c (6, dt 0) = 3.
	if s.Visits != 3 || s.Enters != 4 || s.Matched != 3 {
		t.Fatalf("visits %d enters %d matched %d, want 3 4 3", s.Visits, s.Enters, s.Matched)
	}
	if !near(s.Precision, 0.75) || !near(s.Recall, 1) {
		t.Errorf("precision %v recall %v, want 0.75 1", s.Precision, s.Recall)
	}
	// Enters per visit: 4 enters in the span / 3 visits.
	if !near(s.EntersPerVisit, 4.0/3) {
		t.Errorf("enters per visit %v, want 4/3", s.EntersPerVisit)
	}
	// Latency over b (1 s) and c (0 s); a began before the clip.
	if !near(s.LatencyP50, 0) || !near(s.LatencyP90, 1) {
		t.Errorf("latency p50 %v p90 %v, want 0 and 1", s.LatencyP50, s.LatencyP90)
	}
	// Occupancy of w per 0.1 s sample (100 samples), truth vs run:
	// [0,0.5): 1 vs 0 -> 5 samples off by 1; [0.5,2): 1 vs 1; [2,3): 2 vs 1 -> 10;
	// [3,4): 2 vs 2; [4,5): 1 vs 1; [5,6): 1 vs 0 -> 10; [6,8): 2 vs 1 -> 20;
	// [8,10): 1 vs 1. w: 45 off. x (100 samples): [9,10): 0 vs 1 -> 10 off.
	// MAE = 55 / 200.
	if !near(s.OccupancyMAE, 55.0/200) {
		t.Errorf("occupancy MAE %v, want %v", s.OccupancyMAE, 55.0/200)
	}
	// True mean: w has 4+6+4 = 14 person-seconds over 10 s, x none: 1.4/2 = 0.7.
	if !near(s.TrueOccupancy, 0.7) {
		t.Errorf("true mean occupancy %v, want 0.7", s.TrueOccupancy)
	}
}

func TestSplitTrackCountsTwiceForTheVisit(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 20, Visits: []groundtruth.Visit{{Zone: "w", Enter: 1, Exit: 15}}}
	s := groundtruth.Score(truth, []groundtruth.Event{
		{T: 1.2, Type: "enter", Zone: "w", Occupancy: 1},
		{T: 6, Type: "exit", Zone: "w", Occupancy: 0},
		{T: 9, Type: "enter", Zone: "w", Occupancy: 1},
	})
	if s.Matched != 1 || !near(s.Precision, 0.5) || !near(s.EntersPerVisit, 2) {
		t.Errorf("matched %d precision %v enters/visit %v, want 1 0.5 2", s.Matched, s.Precision, s.EntersPerVisit)
	}
}

// TestEntersPerVisitInACrowd: three people are there at the start and a
// fourth comes in a second later; the run counts each of them once. Every
// one of the four enters falls within the window of the first visit (1.5 s
// before its entry to its exit), and the scorer used to give each enter to
// the visit whose window held it and whose entry was nearest: the first
// three all went to the first of the visits that began at 0, the fourth to
// whichever entry was nearest, and it reported 3 enters for "a" and 2
// visits found: 2.0 enters per visit for a perfect run. Enters per real
// visit is 4 / 4.
func TestEntersPerVisitInACrowd(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 20, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "a", Enter: 0, Exit: 20},
		{Zone: "w", Person: "b", Enter: 0, Exit: 20},
		{Zone: "w", Person: "c", Enter: 0, Exit: 20},
		{Zone: "w", Person: "d", Enter: 1, Exit: 20},
	}}
	s := groundtruth.Score(truth, []groundtruth.Event{
		{T: 0.2, Type: "enter", Zone: "w", Track: 1, Occupancy: 1},
		{T: 0.2, Type: "enter", Zone: "w", Track: 2, Occupancy: 2},
		{T: 0.2, Type: "enter", Zone: "w", Track: 3, Occupancy: 3},
		{T: 1.4, Type: "enter", Zone: "w", Track: 4, Occupancy: 4},
	})
	if s.Matched != 4 || !near(s.Precision, 1) || !near(s.Recall, 1) || !near(s.EntersPerVisit, 1) {
		t.Errorf("matched %d precision %v recall %v enters/visit %v, want 4 1 1 1", s.Matched, s.Precision, s.Recall, s.EntersPerVisit)
	}
}

func TestLoadRejectsBadTruth(t *testing.T) {
	dir := t.TempDir()
	tooMany := `{"duration_s": 10, "visits": [` + strings.Repeat(`{"zone": "w", "enter_s": 1, "exit_s": 2},`, groundtruth.MaxVisits) + `{"zone": "w", "enter_s": 1, "exit_s": 2}]}`
	for name, body := range map[string]string{
		"too many visits": tooMany,
		"not json":        `{`,
		"no span":         `{"visits": []}`,
		"exit before":     `{"duration_s": 10, "visits": [{"zone": "w", "enter_s": 5, "exit_s": 4}]}`,
		"past the span":   `{"duration_s": 10, "visits": [{"zone": "w", "enter_s": 5, "exit_s": 11}]}`,
		"no zone":         `{"duration_s": 10, "visits": [{"enter_s": 1, "exit_s": 2}]}`,
		"place in px":     `{"duration_s": 10, "visits": [{"zone": "w", "enter_s": 1, "exit_s": 2, "enter_at": [560, 300]}]}`,
		"place of one":    `{"duration_s": 10, "visits": [{"zone": "w", "enter_s": 1, "exit_s": 2, "enter_at": [0.5]}]}`,
		"place of 3":      `{"duration_s": 10, "visits": [{"zone": "w", "enter_s": 1, "exit_s": 2, "enter_at": [0.5, 0.5, 0.5]}]}`,
	} {
		p := filepath.Join(dir, "t.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := groundtruth.Load(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCrowdPairsEveryoneItCan: g enters at 11.3 s and h at 13.2 s; the run
// counts g at 12.6 s and h at 14.6 s. g's enter is nearer h's entry, and
// pairing closest first gave it to h, leaving g's visit with nothing
// within reach and h's enter unmatched: 1 of 2. Both are found.
func TestCrowdPairsEveryoneItCan(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 20, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "g", Enter: 11.3, Exit: 18},
		{Zone: "w", Person: "h", Enter: 13.2, Exit: 20},
	}}
	s := groundtruth.Score(truth, []groundtruth.Event{
		{T: 12.6, Type: "enter", Zone: "w", Track: 1, Occupancy: 1},
		{T: 14.6, Type: "enter", Zone: "w", Track: 2, Occupancy: 2},
	})
	if s.Matched != 2 || !near(s.LatencyP50, 1.3) || !near(s.LatencyP90, 1.4) {
		t.Errorf("matched %d latency %v / %v, want 2 and 1.3 / 1.4", s.Matched, s.LatencyP50, s.LatencyP90)
	}
}

// TestPlaceKeepsEntersApart: e enters at the right edge and q at the left
// 0.4 s apart; the run misses q and raises a second enter for e at the
// right edge. By time alone that enter finds q; labelled with their entry
// places it is one found, one missed and one extra.
func TestPlaceKeepsEntersApart(t *testing.T) {
	right, left := []float64{0.97, 0.5}, []float64{0.27, 0.8}
	truth := &groundtruth.Truth{Seconds: 40, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "e", Enter: 29.6, Exit: 40},
		{Zone: "w", Person: "q", Enter: 30.0, Exit: 40},
	}}
	evs := []groundtruth.Event{
		{T: 30.1, Type: "enter", Zone: "w", Track: 1, Occupancy: 1, Feet: &[2]float64{0.93, 0.52}},
		{T: 30.3, Type: "enter", Zone: "w", Track: 2, Occupancy: 2, Feet: &[2]float64{0.85, 0.45}},
	}
	if s := groundtruth.Score(truth, evs); s.Matched != 2 {
		t.Fatalf("without places: matched %d, want 2", s.Matched)
	}
	truth.Visits[0].At, truth.Visits[1].At = right, left
	s := groundtruth.Score(truth, evs)
	if s.Matched != 1 || !near(s.Precision, 0.5) || !near(s.Recall, 0.5) {
		t.Errorf("with places: matched %d precision %v recall %v, want 1 0.5 0.5", s.Matched, s.Precision, s.Recall)
	}
	// An event without a place (an older log) is matched by time alone.
	evs[1].Feet = nil
	if s := groundtruth.Score(truth, evs); s.Matched != 2 {
		t.Errorf("an enter without feet: matched %d, want 2", s.Matched)
	}
}

// TestLatencyOfThreeInARow: a, b and c enter 0.2 s apart and the run
// counts them 1 s later each. Every pairing is within the window and, by
// total time apart, costs the same (pairing closest first gave c the
// first enter and a the last); by squared times apart the first entry
// gets the first enter, whatever order the enters come in.
func TestLatencyOfThreeInARow(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 10, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "a", Enter: 1, Exit: 10},
		{Zone: "w", Person: "b", Enter: 1.2, Exit: 10},
		{Zone: "w", Person: "c", Enter: 1.4, Exit: 10},
	}}
	enter := func(t float64, track int) groundtruth.Event {
		return groundtruth.Event{T: t, Type: "enter", Zone: "w", Track: track, Occupancy: track}
	}
	a, b, c := enter(2, 1), enter(2.2, 2), enter(2.4, 3)
	for _, evs := range [][]groundtruth.Event{{a, b, c}, {a, c, b}, {b, a, c}, {b, c, a}, {c, a, b}, {c, b, a}} {
		s := groundtruth.Score(truth, evs)
		for i, f := range s.Found {
			if f.Track != i+1 {
				t.Errorf("enters in the order %v: %s paired with track %d, want %d", []int{evs[0].Track, evs[1].Track, evs[2].Track}, f.Person, f.Track, i+1)
			}
		}
		if !near(s.LatencyP50, 1) || !near(s.LatencyP90, 1) {
			t.Errorf("enters in the order %v: latency %v / %v, want 1 / 1", []int{evs[0].Track, evs[1].Track, evs[2].Track}, s.LatencyP50, s.LatencyP90)
		}
	}
}

// TestLatencyOfTwoInARow: a enters at 1 s and b at 2 s; the run counts
// them at 2.5 s and 3 s. The 2.5 s enter is b's nearest and a's only one
// within the window: pairing closest first gave it to b and left a
// unfound. Both are found, a at 1.5 s and b at 1 s, in either order.
func TestLatencyOfTwoInARow(t *testing.T) {
	truth := &groundtruth.Truth{Seconds: 10, Visits: []groundtruth.Visit{
		{Zone: "w", Person: "a", Enter: 1, Exit: 10},
		{Zone: "w", Person: "b", Enter: 2, Exit: 10},
	}}
	for _, evs := range [][]groundtruth.Event{
		{{T: 2.5, Type: "enter", Zone: "w", Track: 1, Occupancy: 1}, {T: 3, Type: "enter", Zone: "w", Track: 2, Occupancy: 2}},
		{{T: 3, Type: "enter", Zone: "w", Track: 2, Occupancy: 2}, {T: 2.5, Type: "enter", Zone: "w", Track: 1, Occupancy: 1}},
	} {
		s := groundtruth.Score(truth, evs)
		if s.Matched != 2 || s.Found[0].Track != 1 || s.Found[1].Track != 2 || !near(s.LatencyP50, 1) || !near(s.LatencyP90, 1.5) {
			t.Errorf("enters %v: found %+v, latency %v / %v; want a with track 1, b with track 2, 1 / 1.5", evs, s.Found, s.LatencyP50, s.LatencyP90)
		}
	}
}
