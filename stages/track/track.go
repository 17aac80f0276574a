// Package track turns per-frame person detections into stable tracks and
// zone transitions: enter and exit events and per-zone occupancy.
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

// Config tunes the tracker. Zero values take the documented defaults.
type Config struct {
	// Zones decides which zone a point lies in, honouring privacy precedence and signage.
	Zones *zones.Set
	// MinIoU is the overlap for a detection to continue a track. It defaults to 0.3.
	MinIoU float64
	// MinHits is how many matched detections confirm a track before it can enter a
	// zone, so that one false detection does not raise an event. It defaults to 2.
	MinHits int
	// MaxAge is how long a track survives without a match. Detection runs at a few
	// frames a second and HOG misses people now and then, so it defaults to 2 s.
	MaxAge time.Duration
}

type trackState struct {
	id       int
	rect     image.Rectangle
	score    float64
	hits     int
	lastSeen time.Time
	zones    []string // zones the track is counted in, sorted
}

// Tracker is a greedy IoU tracker. It is not safe for concurrent use; the
// pipeline owns one per camera.
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
		cfg.MinIoU = 0.3
	}
	if cfg.MinHits <= 0 {
		cfg.MinHits = 2
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 2 * time.Second
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
			tr.rect = rescale(tr.rect, t.size, size)
		}
	}
	t.size = size
	matched := t.match(dets, at)
	for i, d := range dets {
		if matched[i] {
			continue
		}
		t.tracks = append(t.tracks, &trackState{id: t.nextID, rect: d.Rect, score: d.Score, hits: 1, lastSeen: at})
		t.nextID++
	}

	kept := t.tracks[:0]
	for _, tr := range t.tracks {
		if at.Sub(tr.lastSeen) > t.cfg.MaxAge {
			out = t.moveTo(out, tr, nil, size, at)
			continue
		}
		kept = append(kept, tr)
		if tr.hits < t.cfg.MinHits {
			continue
		}
		var now []string
		if tr.lastSeen.Equal(at) {
			now = t.zonesOf(tr.rect, size, at)
		} else {
			// Not seen in this frame: keep its last zones while it may still be there,
			// but drop those that stopped being analysed.
			now = slices.DeleteFunc(slices.Clone(tr.zones), func(z string) bool { return !slices.Contains(active, z) })
		}
		out = t.moveTo(out, tr, now, size, at)
	}
	t.tracks = kept
	return out
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
		Box: normBox(tr.rect, size), Occupancy: t.occupancy[zone],
	}
}

// zonesOf is where a person stands: the bottom centre of the box, their feet.
func (t *Tracker) zonesOf(r image.Rectangle, size image.Point, at time.Time) []string {
	if size.X <= 0 || size.Y <= 0 {
		return nil
	}
	pt := zones.Point{X: (float64(r.Min.X+r.Max.X) / 2) / float64(size.X), Y: float64(r.Max.Y) / float64(size.Y)}
	pt.X = min(max(pt.X, 0), 1)
	pt.Y = min(max(pt.Y, 0), 1)
	zs := t.cfg.Zones.ZonesAt(pt, at)
	slices.Sort(zs)
	return zs
}

// match pairs detections with live tracks, best overlap first.
func (t *Tracker) match(dets []Detection, at time.Time) []bool {
	type pair struct {
		iou  float64
		d, k int
	}
	var pairs []pair
	for di, d := range dets {
		for ti, tr := range t.tracks {
			if v := iou(d.Rect, tr.rect); v >= t.cfg.MinIoU {
				pairs = append(pairs, pair{v, di, ti})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.iou > b.iou:
			return -1
		case a.iou < b.iou:
			return 1
		}
		return 0
	})
	usedD := make([]bool, len(dets))
	usedT := make([]bool, len(t.tracks))
	for _, p := range pairs {
		if usedD[p.d] || usedT[p.k] {
			continue
		}
		usedD[p.d], usedT[p.k] = true, true
		tr := t.tracks[p.k]
		tr.rect, tr.score, tr.lastSeen = dets[p.d].Rect, dets[p.d].Score, at
		tr.hits++
	}
	return usedD
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

func rescale(r image.Rectangle, from, to image.Point) image.Rectangle {
	sx := func(v int) int { return v * to.X / from.X }
	sy := func(v int) int { return v * to.Y / from.Y }
	return image.Rect(sx(r.Min.X), sy(r.Min.Y), sx(r.Max.X), sy(r.Max.Y))
}
