package groundtruth

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// EntryWindow is how close (seconds) an enter event must come to a labelled
// entry to count as finding that visit.
const EntryWindow = 1.5

// PlaceWindow is how far (in fractions of the frame's width and height) an
// enter event's feet point may be from a visit's labelled entry place
// (Visit.At) to count as finding that visit: a walker covers about a
// seventh of vtest's width in EntryWindow, and an enter is raised where
// the track is then, not where the feet crossed the outline.
const PlaceWindow = 0.2

// sampleStep is the occupancy sampling period, in seconds.
const sampleStep = 0.1

// Event is an enter or exit a run produced, at T seconds from the clip's
// start; Occupancy is the zone's count after it.
type Event struct {
	T         float64 `json:"t"`
	Type      string  `json:"type"` // "enter" or "exit"
	Zone      string  `json:"zone"`
	Track     int     `json:"track"`
	Occupancy int     `json:"occupancy"`
	// Feet is where the track's feet were (bottom centre of its box, in
	// fractions of the frame), when known.
	Feet *[2]float64 `json:"feet,omitempty"`
}

// FeetOf is the feet point (bottom centre) of a box x, y, w, h in
// fractions of the frame, as Event.Feet wants it; nil for an empty box.
func FeetOf(box [4]float64) *[2]float64 {
	if box[2] <= 0 || box[3] <= 0 {
		return nil
	}
	return &[2]float64{box[0] + box[2]/2, box[1] + box[3]}
}

// Scores are a run's figures against a truth.
type Scores struct {
	Visits  int `json:"visits"`  // labelled visits
	Enters  int `json:"enters"`  // enter events within the labelled span
	Matched int `json:"matched"` // enters within EntryWindow (and PlaceWindow, where labelled) of a labelled entry, one per visit
	// Precision is Matched / Enters; Recall is Matched / Visits.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// EntersPerVisit is Enters / Visits: the enters a run raised per real
	// visit (issue #16's "enters per real visit"). 1 is ideal; more means
	// tracks split (a person entered again) or ghosts entered. It does
	// not try to say which visit an unpaired enter belongs to: a truth
	// holds where people entered at most, and in a crowd the visit whose
	// window an enter falls in is often someone else's (docs/accuracy.md).
	EntersPerVisit float64 `json:"enters_per_visit"`
	// OccupancyMAE is the mean absolute difference between the labelled and
	// the reported count of people, per zone, sampled every 0.1 s.
	OccupancyMAE  float64 `json:"occupancy_mae"`
	TrueOccupancy float64 `json:"true_mean_occupancy"`
	RunOccupancy  float64 `json:"run_mean_occupancy"`
	// LatencyP50 and LatencyP90 are percentiles of (enter event - labelled
	// entry) over the matched visits that began after the clip did. An
	// enter up to EntryWindow before the labelled entry counts, as a
	// negative latency.
	LatencyP50 float64 `json:"entry_latency_p50_s"`
	LatencyP90 float64 `json:"entry_latency_p90_s"`
	// Seconds is the span scored.
	Seconds float64 `json:"duration_s"`
	// Found says, per labelled visit in the truth's order, which enter was
	// paired with it (Found.Track 0 and At -1: none); Extra lists the
	// enters paired with no visit. Together they are the timeline an
	// inspector checks the figures against.
	Found []Found `json:"found"`
	Extra []Event `json:"extra_enters"`
}

// Found is one labelled visit and the enter paired with it.
type Found struct {
	Person string  `json:"person"`
	Zone   string  `json:"zone"`
	Enter  float64 `json:"enter_s"`
	At     float64 `json:"enter_event_s"` // -1: not found
	Track  int     `json:"track"`
}

// Score scores events against t. Events at or after t.Seconds are ignored.
func Score(t *Truth, events []Event) Scores {
	s := Scores{Visits: len(t.Visits), Seconds: t.Seconds}
	var enters []Event
	for _, e := range events {
		if e.T < t.Seconds && e.Type == "enter" {
			enters = append(enters, e)
		}
	}
	s.Enters = len(enters)

	// One enter per visit: as many pairs as can be made, then the least
	// sum of squared times apart (assign; squared, so that of two entries
	// and two later enters the first entry gets the first enter, not a
	// tie that column order breaks). A visit labelled with its entry place
	// pairs only with enters near it: enters at one edge of the picture
	// are not scored against entries at another.
	// Enters in time order, so each visit looks only at those within
	// EntryWindow of its entry.
	byTime := make([]int, len(enters))
	for i := range byTime {
		byTime[i] = i
	}
	slices.SortStableFunc(byTime, func(a, b int) int { return cmp.Compare(enters[a].T, enters[b].T) })
	var pairs []pair
	for vi, v := range t.Visits {
		k, _ := slices.BinarySearchFunc(byTime, v.Enter-EntryWindow, func(ei int, t float64) int { return cmp.Compare(enters[ei].T, t) })
		for ; k < len(byTime) && enters[byTime[k]].T <= v.Enter+EntryWindow; k++ {
			ei := byTime[k]
			if e := enters[ei]; e.Zone == v.Zone && v.near(e) {
				dt := e.T - v.Enter
				pairs = append(pairs, pair{vi, ei, dt * dt})
			}
		}
	}
	var lat []float64
	paired := make([]bool, len(enters))
	for vi, ei := range assign(len(t.Visits), len(enters), pairs) {
		v := t.Visits[vi]
		f := Found{Person: v.Person, Zone: v.Zone, Enter: v.Enter, At: -1}
		if ei >= 0 {
			paired[ei] = true
			f.At, f.Track = enters[ei].T, enters[ei].Track
			s.Matched++
			if v.Enter > 0 {
				lat = append(lat, enters[ei].T-v.Enter)
			}
		}
		s.Found = append(s.Found, f)
	}
	for ei, e := range enters {
		if !paired[ei] {
			s.Extra = append(s.Extra, e)
		}
	}
	if s.Enters > 0 {
		s.Precision = float64(s.Matched) / float64(s.Enters)
	}
	if s.Visits > 0 {
		s.Recall = float64(s.Matched) / float64(s.Visits)
	} else if s.Enters == 0 {
		s.Precision, s.Recall = 1, 1
	}

	if s.Visits > 0 {
		s.EntersPerVisit = float64(s.Enters) / float64(s.Visits)
	}

	s.OccupancyMAE, s.TrueOccupancy, s.RunOccupancy = occupancy(t, events)
	s.LatencyP50, s.LatencyP90 = percentile(lat, 0.5), percentile(lat, 0.9)
	return s
}

// near says whether e was raised near where v entered: always, where
// either place is unknown.
func (v Visit) near(e Event) bool {
	if len(v.At) != 2 || e.Feet == nil {
		return true
	}
	return math.Hypot(e.Feet[0]-v.At[0], e.Feet[1]-v.At[1]) <= PlaceWindow
}

// occupancy samples the labelled and the reported count of every zone that
// appears in either, and returns the mean absolute error and both means
// (per zone).
func occupancy(t *Truth, events []Event) (mae, truth, run float64) {
	zs := map[string]bool{}
	for _, v := range t.Visits {
		zs[v.Zone] = true
	}
	for _, e := range events {
		zs[e.Zone] = true
	}
	byZone := map[string][]Event{}
	for _, e := range events {
		byZone[e.Zone] = append(byZone[e.Zone], e)
	}
	samples := 0
	for _, z := range slices.Sorted(maps.Keys(zs)) {
		evs := byZone[z]
		slices.SortStableFunc(evs, func(a, b Event) int { return cmp.Compare(a.T, b.T) })
		k, cur := 0, 0
		for i := 0; float64(i)*sampleStep < t.Seconds; i++ {
			ts := float64(i) * sampleStep
			for k < len(evs) && evs[k].T <= ts {
				cur = evs[k].Occupancy
				k++
			}
			want := 0
			for _, v := range t.Visits {
				if v.Zone == z && v.Enter <= ts && ts < v.Exit {
					want++
				}
			}
			mae += math.Abs(float64(cur - want))
			truth += float64(want)
			run += float64(cur)
			samples++
		}
	}
	if samples == 0 {
		return 0, 0, 0
	}
	n := float64(samples)
	return mae / n, truth / n, run / n
}

// percentile is the p-quantile of v by the nearest-rank method; 0 for none.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	i := int(math.Ceil(p*float64(len(v)))) - 1
	return v[min(max(i, 0), len(v)-1)]
}
