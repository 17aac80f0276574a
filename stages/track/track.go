// Package track turns per-frame person detections into stable tracks and
// zone transitions: enter and exit events and per-zone occupancy.
//
// Each track follows one person with a constant-velocity Kalman filter on
// the feet point and box size (motion.go). Detections are associated in two
// stages, as ByteTrack does: confident ones first, against every track; then
// the weak ones, only to continue tracks still unmatched, never to start one.
// A track missed by the detector is held for Config.Hold, following its
// predicted path, before it is given up, so a person missed for a second or
// two keeps one id and enters once.
package track

import (
	"image"
	"slices"
	"time"

	"github.com/edgeprivacy/edge/zones"
)

// Detection is one person box in full-frame pixel coordinates.
type Detection struct {
	Rect  image.Rectangle
	Score float64
}

// Transition is a person entering or leaving a zone.
type Transition struct {
	Type      string // "enter" or "exit"
	Zone      string
	TrackID   int
	Score     float64
	Box       [4]float64 // x, y, w, h in 0..1 of the frame
	At        time.Time
	Occupancy int // the zone's count after this transition
}

// Defaults of Config.
const (
	// DefaultHold is how long a track is kept through missed detections:
	// HOG misses walking people for a second or two behind posts and in
	// crowds, and an exit sent too early comes back as a second enter.
	DefaultHold = 2 * time.Second
	// DefaultHighScore is the confidence a detection needs to start a track
	// or to be matched in the first stage.
	DefaultHighScore = 0.6
)

// Config tunes the tracker. Zero values take the documented defaults.
type Config struct {
	// Zones decides which zone a point lies in, honouring privacy precedence and signage.
	Zones *zones.Set
	// MinIoU is the overlap of a detection with a track's predicted box for
	// the two to be matched. It defaults to 0.2.
	MinIoU float64
	// MinHits is how many matched detections confirm a track before it can enter a
	// zone, so that one false detection does not raise an event. It defaults to 2.
	MinHits int
	// Hold is how long a track is kept without a match before it exits its
	// zones. It defaults to DefaultHold.
	Hold time.Duration
	// HighScore splits detections: at or above it they are matched first and
	// may start tracks; below it they only continue tracks. It defaults to
	// DefaultHighScore.
	HighScore float64
}

type trackState struct {
	id       int
	m        motion
	last     time.Time // time m was predicted to
	score    float64
	hits     int
	lastSeen time.Time
	seenNow  bool
	zones    []string // zones the track is counted in, sorted
}

// Tracker is a two-stage Kalman tracker. It is not safe for concurrent use;
// the pipeline owns one per camera.
type Tracker struct {
	cfg       Config
	tracks    []*trackState
	nextID    int
	occupancy map[string]int
	size      image.Point // frame size of the last update
}

// New returns a tracker.
func New(cfg Config) *Tracker {
	if cfg.MinIoU <= 0 {
		cfg.MinIoU = 0.2
	}
	if cfg.MinHits <= 0 {
		cfg.MinHits = 2
	}
	if cfg.Hold <= 0 {
		cfg.Hold = DefaultHold
	}
	if cfg.HighScore <= 0 {
		cfg.HighScore = DefaultHighScore
	}
	return &Tracker{cfg: cfg, nextID: 1, occupancy: map[string]int{}}
}

// Occupancy returns the current count per zone that holds or held someone.
func (t *Tracker) Occupancy() map[string]int {
	out := make(map[string]int, len(t.occupancy))
	for k, v := range t.occupancy {
		out[k] = v
	}
	return out
}

// Box is a live confirmed track's current box.
type Box struct {
	ID   int
	Rect image.Rectangle
}

// Boxes returns the confirmed tracks' boxes, by id.
func (t *Tracker) Boxes() []Box {
	var out []Box
	for _, tr := range t.tracks {
		if tr.hits >= t.cfg.MinHits {
			out = append(out, Box{ID: tr.id, Rect: tr.m.rect()})
		}
	}
	slices.SortFunc(out, func(a, b Box) int { return a.ID - b.ID })
	return out
}

// Update feeds the detections of one analysed frame of size size, taken at
// at, and returns the transitions it causes. active lists the zones analysed
// for this frame: a tracked person in a zone that is no longer active (its
// signage expired) stops being counted there without an exit event, since
// nobody saw them leave.
func (t *Tracker) Update(dets []Detection, size image.Point, at time.Time, active []string) []Transition {
	var out []Transition
	if size != t.size && t.size.X > 0 && t.size.Y > 0 && size.X > 0 && size.Y > 0 {
		// The stream changed resolution: the scene did not. Carry the tracks
		// over in proportion so the same people keep their ids.
		for _, tr := range t.tracks {
			tr.m.scale(float64(size.X)/float64(t.size.X), float64(size.Y)/float64(t.size.Y))
		}
	}
	t.size = size
	for _, tr := range t.tracks {
		if dt := at.Sub(tr.last).Seconds(); dt > 0 {
			tr.m.predict(dt)
			tr.last = at
		}
		tr.seenNow = false
	}
	t.associate(dets, at)

	kept := t.tracks[:0]
	for _, tr := range t.tracks {
		unseen := at.Sub(tr.lastSeen)
		if unseen > t.cfg.Hold || (tr.hits < t.cfg.MinHits && unseen > t.cfg.Hold/2) {
			out = t.moveTo(out, tr, nil, size, at)
			continue
		}
		kept = append(kept, tr)
		if tr.hits < t.cfg.MinHits {
			continue
		}
		// Seen or not, the feet are where the motion model puts them: a
		// person walking out of a zone is usually missed once outside it
		// (the detector sees only the zones' region), and should exit
		// then, not a hold time later. A person still in the zone stays.
		now := t.zonesOf(&tr.m, size, at)
		if !tr.seenNow {
			// Unseen: it may leave zones, never enter new ones on a guess,
			// and loses those that stopped being analysed.
			now = slices.DeleteFunc(now, func(z string) bool {
				return !slices.Contains(tr.zones, z) || !slices.Contains(active, z)
			})
		}
		out = t.moveTo(out, tr, now, size, at)
	}
	t.tracks = kept
	return out
}

// associate matches detections to tracks in two stages and starts tracks
// for the confident detections left over.
func (t *Tracker) associate(dets []Detection, at time.Time) {
	var high, low []int
	for i, d := range dets {
		if d.Rect.Empty() {
			continue
		}
		if d.Score >= t.cfg.HighScore {
			high = append(high, i)
		} else {
			low = append(low, i)
		}
	}
	used := make([]bool, len(t.tracks))
	left := t.match(dets, high, used, at)
	// Weak boxes are often the partly hidden person the track already
	// follows; alone they are too often background to start a track.
	t.match(dets, low, used, at)
	for _, di := range left {
		d := dets[di]
		t.tracks = append(t.tracks, &trackState{id: t.nextID, m: newMotion(d.Rect), last: at,
			score: d.Score, hits: 1, lastSeen: at, seenNow: true})
		t.nextID++
	}
}

// match pairs the detections idx with unused tracks, best overlap with the
// predicted box first, and returns the detections left unmatched.
func (t *Tracker) match(dets []Detection, idx []int, used []bool, at time.Time) []int {
	type pair struct {
		aff  float64
		d, k int
	}
	var pairs []pair
	for _, di := range idx {
		for ti, tr := range t.tracks[:len(used)] {
			if used[ti] {
				continue
			}
			if v := affinity(dets[di].Rect, &tr.m, t.cfg.MinIoU); v > 0 {
				pairs = append(pairs, pair{v, di, ti})
			}
		}
	}
	// Stable order, ties broken by index, so a run is reproducible.
	slices.SortStableFunc(pairs, func(a, b pair) int {
		switch {
		case a.aff > b.aff:
			return -1
		case a.aff < b.aff:
			return 1
		}
		return 0
	})
	usedD := map[int]bool{}
	for _, p := range pairs {
		if usedD[p.d] || used[p.k] {
			continue
		}
		usedD[p.d], used[p.k] = true, true
		tr, d := t.tracks[p.k], dets[p.d]
		tr.m.update(d.Rect)
		tr.score, tr.lastSeen, tr.seenNow = d.Score, at, true
		tr.hits++
	}
	var left []int
	for _, di := range idx {
		if !usedD[di] {
			left = append(left, di)
		}
	}
	return left
}

// affinity scores a detection against a track's predicted box: their
// overlap when it reaches minIoU, else, for boxes of similar size whose feet
// are within half a body height (a prediction that drifted while the person
// was missed), a small positive value that ranks below every overlap.
func affinity(d image.Rectangle, m *motion, minIoU float64) float64 {
	p := m.rect()
	if v := iou(d, p); v >= minIoU {
		return v
	}
	dx, dy, _, dh := feetOf(d)
	px, py := m.feet()
	ph := max(m.h.p, 1)
	if dh < ph/1.5 || dh > ph*1.5 {
		return 0
	}
	dist := ((dx-px)*(dx-px) + (dy-py)*(dy-py)) / (ph * ph)
	if dist >= 0.25 {
		return 0
	}
	return minIoU * (1 - dist/0.25) / 2
}

// moveTo sets tr's zones to now, emitting exits then enters. A zone that is no
// longer active loses its count silently.
func (t *Tracker) moveTo(out []Transition, tr *trackState, now []string, size image.Point, at time.Time) []Transition {
	for _, z := range tr.zones {
		if slices.Contains(now, z) {
			continue
		}
		t.occupancy[z]--
		if t.isActive(z, at) {
			out = append(out, t.transition("exit", z, tr, size, at))
		}
	}
	for _, z := range now {
		if slices.Contains(tr.zones, z) {
			continue
		}
		t.occupancy[z]++
		out = append(out, t.transition("enter", z, tr, size, at))
	}
	tr.zones = now
	return out
}

func (t *Tracker) isActive(zone string, at time.Time) bool {
	return t.cfg.Zones.SignageStatus(zone, at) == zones.SignValid
}

func (t *Tracker) transition(typ, zone string, tr *trackState, size image.Point, at time.Time) Transition {
	return Transition{
		Type: typ, Zone: zone, TrackID: tr.id, Score: tr.score, At: at,
		Box: normBox(tr.m.rect(), size), Occupancy: t.occupancy[zone],
	}
}

// zonesOf is where a person stands: their feet, the bottom centre of the box.
func (t *Tracker) zonesOf(m *motion, size image.Point, at time.Time) []string {
	if size.X <= 0 || size.Y <= 0 {
		return nil
	}
	x, y := m.feet()
	pt := zones.Point{X: x / float64(size.X), Y: y / float64(size.Y)}
	if pt.X < 0 || pt.X > 1 || pt.Y < 0 || pt.Y > 1.02 {
		return nil // out of the picture
	}
	pt.Y = min(pt.Y, 1)
	zs := t.cfg.Zones.ZonesAt(pt, at)
	slices.Sort(zs)
	return zs
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	ua := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia
	if ua <= 0 {
		return 0
	}
	return ia / ua
}

func normBox(r image.Rectangle, size image.Point) [4]float64 {
	if size.X <= 0 || size.Y <= 0 {
		return [4]float64{}
	}
	w, h := float64(size.X), float64(size.Y)
	clip := r.Intersect(image.Rect(0, 0, size.X, size.Y))
	return [4]float64{float64(clip.Min.X) / w, float64(clip.Min.Y) / h, float64(clip.Dx()) / w, float64(clip.Dy()) / h}
}
