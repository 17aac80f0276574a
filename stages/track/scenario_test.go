package track_test

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// Synthetic scenarios with exact truth: people walk scripted paths through
// a 768x576 frame (vtest's size) whose walkway is the rectangle below; the
// truth (who stands in the walkway when) follows from the paths alone, by a
// comparison independent of package zones. A simulated detector sees them
// as HOG does on vtest: it misses some frames, its boxes jitter, some boxes
// are weak (between min_score and track_score), it reports boxes on nothing,
// and it sees only the zone's analysis region (people outside it are not
// found). The real tracker and zone logic turn its boxes into events, and
// the test asserts every enter, exit and the occupancy against the truth.

const (
	scW, scH = 768, 576
	scFPS    = 5
	// The walkway, in fractions of the frame.
	wx0, wy0, wx1, wy1 = 0.25, 0.30, 0.95, 0.95
)

func walkway() *zones.Set {
	zs := []zones.Zone{
		{ID: "privacy", Kind: zones.Privacy, Polygon: poly(0, 0, 0.2, 0, 0.2, 1, 0, 1)},
		{ID: "walkway", Kind: zones.Monitored, Signage: "s1", Polygon: poly(wx0, wy0, wx1, wy0, wx1, wy1, wx0, wy1)},
	}
	return zones.NewSet(zs, map[string]zones.Sign{"s1": {ID: "s1", VerifiedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}}).
		WithPersonHeight(zones.DefaultPersonHeight)
}

// inWalkway is the truth: feet strictly inside the rectangle.
func inWalkway(x, y float64) bool { return x > wx0 && x < wx1 && y > wy0 && y < wy1 }

// seen is where the simulated detector can find a person: feet within the
// analysis region (the walkway and the body's height above it), give or
// take a little, and in the picture.
func seen(x, y float64) bool {
	return x > wx0-0.03 && x < wx1+0.03 && y < wy1+0.03 && x > 0 && x < 1
}

// waypoint is where an actor's feet are (fractions of the frame) at T seconds.
type waypoint struct{ T, X, Y float64 }

// actor is one scripted person: present from the first waypoint's time to
// the last's, moving in straight lines between them.
type actor struct {
	name   string
	path   []waypoint
	hidden [][2]float64 // spans (seconds) the detector cannot see them: a post, another person
}

func (a actor) at(t float64) (x, y float64, ok bool) {
	p := a.path
	if t < p[0].T || t > p[len(p)-1].T {
		return 0, 0, false
	}
	for i := 1; i < len(p); i++ {
		if t <= p[i].T {
			f := 0.0
			if p[i].T > p[i-1].T {
				f = (t - p[i-1].T) / (p[i].T - p[i-1].T)
			}
			return p[i-1].X + f*(p[i].X-p[i-1].X), p[i-1].Y + f*(p[i].Y-p[i-1].Y), true
		}
	}
	return p[len(p)-1].X, p[len(p)-1].Y, true
}

func (a actor) hiddenAt(t float64) bool {
	for _, h := range a.hidden {
		if t >= h[0] && t < h[1] {
			return true
		}
	}
	return false
}

// heightAt is a person's height in pixels with their feet at y: nearer the
// camera (lower in the picture) is taller, as in vtest.
func heightAt(y float64) float64 { return scH * (0.15 + 0.2*y) }

// noise is how the simulated detector errs.
type noise struct {
	miss     float64 // chance a visible person is not found in a frame
	jitter   float64 // standard deviation of each box edge, in person heights
	weak     float64 // chance a box scores between min_score and track_score
	spurious float64 // chance per frame of a box on nothing, anywhere in the region
}

// walkNoise is close to HOG's on vtest at 5 fps for a person it sees (from
// the logged detections, internal/verify/testdata): about a fifth of
// frames miss a walking person, box edges move a few percent of the
// height from frame to frame, a quarter of the boxes are weak.
var walkNoise = noise{miss: 0.2, jitter: 0.03, weak: 0.25}

// ghostNoise adds boxes on nothing, one frame in ten.
var ghostNoise = noise{miss: 0.2, jitter: 0.03, weak: 0.25, spurious: 0.1}

type scenario struct {
	name    string
	seconds float64
	actors  []actor
	// minHeight is the smallest person (pixels tall) the simulated
	// detector finds, told to the tracker as the detect stage does
	// (Tracker.SetMinHeight); 0: no limit.
	minHeight float64
	// wrong is how many of the 40 seeds may go wrong under walkNoise and
	// under ghostNoise: measured (Dec 2026) and held, to be lowered as
	// the tracker improves. Each wrong seed is one run with an extra or a
	// missing enter or exit, or a count off away from a change.
	wrong, wrongGhosts int
}

// visit is one truthful stay of an actor in the walkway, in frame times.
type visit struct {
	who         string
	enter, exit float64 // exit < 0: still there at the end
}

// frames is the analysed frame times.
func (s scenario) frames() []float64 {
	var ts []float64
	for i := 0; float64(i)/scFPS < s.seconds; i++ {
		ts = append(ts, float64(i)/scFPS)
	}
	return ts
}

// truth is the visits, sampled at the frame times: a person is in the
// walkway from the first frame their feet are inside to the first frame
// they are not.
func (s scenario) truth() []visit {
	var out []visit
	for _, a := range s.actors {
		var cur *visit
		for _, t := range s.frames() {
			x, y, ok := a.at(t)
			in := ok && inWalkway(x, y)
			switch {
			case in && cur == nil:
				cur = &visit{who: a.name, enter: t, exit: -1}
			case !in && cur != nil:
				cur.exit = t
				out = append(out, *cur)
				cur = nil
			}
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out
}

// trueCount is how many people stand in the walkway at t.
func (s scenario) trueCount(t float64) int {
	n := 0
	for _, a := range s.actors {
		if x, y, ok := a.at(t); ok && inWalkway(x, y) {
			n++
		}
	}
	return n
}

// detect is the simulated detector's boxes for the frame at t.
func (s scenario) detect(t float64, n noise, rng *rand.Rand) []track.Detection {
	var out []track.Detection
	score := func() float64 {
		if rng.Float64() < n.weak {
			return 0.45 + 0.14*rng.Float64() // below track_score 0.6
		}
		return 0.6 + 0.35*rng.Float64()
	}
	for _, a := range s.actors {
		x, y, ok := a.at(t)
		if !ok || !seen(x, y) || a.hiddenAt(t) || heightAt(y) < s.minHeight || rng.Float64() < n.miss {
			continue
		}
		h := heightAt(y)
		w := 0.4 * h
		e := func() float64 { return rng.NormFloat64() * n.jitter * h }
		fx, fy := x*scW, y*scH
		r := image.Rect(int(fx-w/2+e()), int(fy-h+e()), int(fx+w/2+e()), int(fy+e()))
		out = append(out, track.Detection{Rect: r.Intersect(image.Rect(0, 0, scW, scH)), Score: score()})
	}
	if rng.Float64() < n.spurious {
		x := wx0 + rng.Float64()*(wx1-wx0)
		y := wy0 + rng.Float64()*(wy1-wy0)
		h := heightAt(y) * (0.6 + 0.8*rng.Float64())
		fx, fy := x*scW, y*scH
		out = append(out, track.Detection{Rect: image.Rect(int(fx-0.2*h), int(fy-h), int(fx+0.2*h), int(fy)), Score: score()})
	}
	// The detector's order says nothing; shuffle so the tracker cannot lean on it.
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Tolerances of the checks, in seconds. An enter needs the track confirmed
// (a few frames, more when the first are missed); an exit comes when the
// predicted feet leave or, for someone no longer seen, after the hold.
const (
	enterEarly = 0.5 // the boxes' jitter puts the feet in a frame or two early
	enterLate  = 1.5
	exitEarly  = 0.5
	exitLate   = 1.5
)

// run feeds the scenario to a tracker and returns what went wrong (empty
// when the events match the truth) and a trace of the events.
func (s scenario) run(cfg track.Config, n noise, seed uint64) (problems []string, trace string) {
	rng := rand.New(rand.NewPCG(seed, 16))
	cfg.Zones = walkway()
	tr := track.New(cfg)
	size := image.Pt(scW, scH)
	act := []string{"walkway"}
	var got []track.Transition
	var tb strings.Builder
	truth := s.truth()
	for _, t := range s.frames() {
		at := t0.Add(time.Duration(t * float64(time.Second)))
		tr.SetMinHeight(int(s.minHeight))
		for _, tn := range tr.Update(s.detect(t, n, rng), size, at, act) {
			got = append(got, tn)
			fmt.Fprintf(&tb, "  %5.1fs %s track %d occupancy %d\n", t, tn.Type, tn.TrackID, tn.Occupancy)
		}
		// Occupancy is exact away from the truth's changes: from an entry
		// to enterLate after it, and from exitEarly before an exit to
		// exitLate after it, either count is right.
		want, n := s.trueCount(t), tr.Occupancy()["walkway"]
		if n != want && !nearChange(truth, t) {
			problems = append(problems, fmt.Sprintf("at %.1fs occupancy %d, truth %d", t, n, want))
		}
	}
	var enters, exits []float64
	for _, tn := range got {
		ts := tn.At.Sub(t0).Seconds()
		if tn.Type == "enter" {
			enters = append(enters, ts)
		} else {
			exits = append(exits, ts)
		}
	}
	var wantEnters, wantExits []float64
	for _, v := range truth {
		wantEnters = append(wantEnters, v.enter)
		if v.exit >= 0 {
			wantExits = append(wantExits, v.exit)
		}
	}
	if len(enters) != len(wantEnters) {
		problems = append(problems, fmt.Sprintf("%d enters, truth %d visits", len(enters), len(wantEnters)))
	} else {
		slices.Sort(wantEnters)
		for i, e := range enters {
			if d := e - wantEnters[i]; d < -enterEarly || d > enterLate {
				problems = append(problems, fmt.Sprintf("enter at %.1fs, truth %.1fs", e, wantEnters[i]))
			}
		}
	}
	if len(exits) != len(wantExits) {
		problems = append(problems, fmt.Sprintf("%d exits, truth %d", len(exits), len(wantExits)))
	} else {
		slices.Sort(wantExits)
		for i, e := range exits {
			if d := e - wantExits[i]; d < -exitEarly || d > exitLate {
				problems = append(problems, fmt.Sprintf("exit at %.1fs, truth %.1fs", e, wantExits[i]))
			}
		}
	}
	var want strings.Builder
	for _, v := range truth {
		fmt.Fprintf(&want, "  %s: %.1fs..%.1fs\n", v.who, v.enter, v.exit)
	}
	return problems, "events:\n" + tb.String() + "truth (exit -1: still there):\n" + want.String()
}

func nearChange(truth []visit, t float64) bool {
	for _, v := range truth {
		if t >= v.enter-enterEarly && t <= v.enter+enterLate {
			return true
		}
		if v.exit >= 0 && t >= v.exit-exitEarly && t <= v.exit+exitLate {
			return true
		}
	}
	return false
}

// scenarios are the situations that split or lose tracks on real footage.
func scenarios() []scenario {
	return []scenario{{
		name: "one walks through", seconds: 12, wrongGhosts: 4,
		actors: []actor{{name: "a", path: []waypoint{{0, 0.15, 0.6}, {10, 1.05, 0.7}}}},
	}, {
		name: "two cross", seconds: 14, wrongGhosts: 1,
		actors: []actor{
			{name: "a", path: []waypoint{{0, 0.22, 0.62}, {12, 0.98, 0.66}}},
			{name: "b", path: []waypoint{{0.5, 0.98, 0.64}, {12.5, 0.22, 0.62}}, hidden: [][2]float64{{5.8, 6.8}}},
		},
	}, {
		// Feet 2 % of the frame inside the right edge: the jitter of every
		// box puts them outside about a third of the time.
		name: "one stands at the edge", seconds: 20, wrongGhosts: 4,
		actors: []actor{{name: "a", path: []waypoint{{0, 0.6, 0.6}, {3, 0.93, 0.6}, {20, 0.93, 0.6}}}},
	}, {
		name: "one leaves and comes back", seconds: 20, wrongGhosts: 4,
		actors: []actor{{name: "a", path: []waypoint{
			{0, 0.5, 0.6}, {4, 0.5, 0.2}, {8, 0.5, 0.2}, {12, 0.5, 0.6}, {20, 0.5, 0.6}}}},
	}, {
		name: "occluded for two seconds", seconds: 14, wrongGhosts: 6,
		actors: []actor{{name: "a", path: []waypoint{{0, 0.15, 0.7}, {12, 1.05, 0.6}}, hidden: [][2]float64{{5, 7}}}},
	}, {
		name: "there from the start and stays", seconds: 10, wrongGhosts: 2,
		actors: []actor{{name: "a", path: []waypoint{{0, 0.5, 0.5}, {10, 0.6, 0.55}}}, {name: "b", path: []waypoint{{0, 0.7, 0.8}, {10, 0.7, 0.8}}}},
	}, {
		name: "a group of four walks through", seconds: 16, wrong: 1, wrongGhosts: 5,
		actors: []actor{
			{name: "a", path: []waypoint{{0, 0.98, 0.45}, {14, 0.1, 0.55}}},
			{name: "b", path: []waypoint{{0.4, 0.98, 0.6}, {14.4, 0.1, 0.7}}},
			{name: "c", path: []waypoint{{1, 0.98, 0.8}, {15, 0.1, 0.85}}, hidden: [][2]float64{{6, 7}}},
			{name: "d", path: []waypoint{{0, 0.1, 0.9}, {14, 0.98, 0.35}}},
		},
	}, {
		// vtest's D and E: walks up the walkway away from the camera until
		// smaller than the detector can see (138 px: feet above y=0.45,
		// well inside the walkway, which begins at 0.30), waits there
		// 14 s, comes back and leaves.
		name: "waits beyond the detector's range", seconds: 28, minHeight: 138, wrongGhosts: 8,
		actors: []actor{{name: "a", path: []waypoint{
			{0, 0.98, 0.7}, {3, 0.7, 0.55}, {6, 0.7, 0.40}, {20, 0.7, 0.40}, {22, 0.7, 0.55}, {26, 1.02, 0.65}}}},
	}, {
		name: "nobody, boxes on nothing", seconds: 30, wrongGhosts: 7,
	}}
}

const seeds = 40

// TestScenariosExactTruth runs each scenario under 40 seeds of the
// detector's noise and checks every enter, exit and count against the
// truth. The seeds are fixed, so a failure repeats; a scenario fails when
// more seeds go wrong than it tolerates (none for most).
func TestScenariosExactTruth(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) { s.check(t, walkNoise, s.wrong) })
	}
}

// TestScenariosWithGhostBoxes: the same, with boxes on nothing. A ghost
// confirmed by a second box nearby within a second is counted: the
// tracker's weakest point (three hits to confirm would halve that, and
// loses real people on vtest).
func TestScenariosWithGhostBoxes(t *testing.T) {
	for _, s := range scenarios() {
		t.Run(s.name, func(t *testing.T) { s.check(t, ghostNoise, s.wrongGhosts) })
	}
}

func (s scenario) check(t *testing.T, n noise, tolerated int) {
	bad := 0
	for seed := range uint64(seeds) {
		problems, trace := s.run(track.Config{}, n, seed)
		if len(problems) == 0 {
			continue
		}
		bad++
		if bad > tolerated && bad <= tolerated+2 {
			t.Errorf("seed %d: %s\n%s", seed, strings.Join(problems, "; "), trace)
		}
	}
	if bad > tolerated {
		t.Errorf("%d of %d seeds wrong, %d tolerated", bad, seeds, tolerated)
	} else {
		t.Logf("%d of %d seeds wrong, %d tolerated", bad, seeds, tolerated)
	}
}

// TestScenarioTruthByConstruction checks the harness itself: the truth of
// "one walks through" is one visit from when the feet pass x = 0.25 to when
// they pass x = 0.95, worked out from the path by hand.
func TestScenarioTruthByConstruction(t *testing.T) {
	s := scenarios()[0]
	v := s.truth()
	// x = 0.15 + 0.09 t: inside (0.25, 0.95) for t in (1.11, 8.89); frames
	// every 0.2 s: first inside at 1.2 s, first outside again at 9.0 s.
	if len(v) != 1 || math.Abs(v[0].enter-1.2) > 1e-9 || math.Abs(v[0].exit-9.0) > 1e-9 {
		t.Fatalf("truth %+v, want one visit 1.2 s .. 9.0 s", v)
	}
	if n := s.trueCount(5); n != 1 {
		t.Errorf("count at 5 s %d, want 1", n)
	}
}
