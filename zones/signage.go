package zones

import (
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// StatusAt returns the sign's state at t: pending before VerifiedAt,
// expired from ExpiresAt on (a zero ExpiresAt never expires), else valid.
func (s Sign) StatusAt(t time.Time) SignStatus {
	switch {
	case t.Before(s.VerifiedAt):
		return SignPending
	case !s.ExpiresAt.IsZero() && !t.Before(s.ExpiresAt):
		return SignExpired
	}
	return SignValid
}

// Set is one camera's zones and signs. It decides which pixels may be
// analysed and which zone a point belongs to; privacy always wins over
// monitoring. A Set is safe for concurrent use. Its zones change only as a
// whole, by Replace, so that a reload reaches every stage holding the Set
// (mask, motion, detect, tracker) without restarting any of them; each call
// sees one version.
type Set struct{ d atomic.Pointer[setData] }

// setData is one immutable version of a Set.
type setData struct {
	privacy   []Zone
	monitored []Zone
	signs     map[string]Sign

	privMask *MaskCache
	monMasks []*MaskCache // per monitored zone, same order
	analysis memo[analysisKey]

	personHeight float64 // fraction of the frame height; see WithPersonHeight
}

type analysisKey struct {
	w, h   int
	active string // one byte per monitored zone: 1 if active
}

// NewSet builds a camera's Set. Zones of any kind other than Privacy and
// Monitored are ignored; zs and signs are copied. NewSet does not validate
// polygons: config validation does, before a Set is built.
func NewSet(zs []Zone, signs map[string]Sign) *Set {
	set := &Set{}
	set.d.Store(newData(zs, signs))
	return set
}

// Replace makes next's zones and signs this Set's, at once for every user:
// frames masked from now on are painted with next's privacy zones. next
// itself stays usable and unchanged.
func (s *Set) Replace(next *Set) { s.d.Store(next.d.Load()) }

// Privacy returns the privacy zones, in config order.
func (s *Set) Privacy() []Zone { return s.d.Load().Privacy() }

// Monitored returns the monitored zones, in config order.
func (s *Set) Monitored() []Zone { return s.d.Load().Monitored() }

// SignageStatus returns the state at t of the sign of monitored zone
// zoneID: SignMissing when the zone names no sign, the sign is not
// registered, or there is no monitored zone zoneID.
func (s *Set) SignageStatus(zoneID string, t time.Time) SignStatus {
	return s.d.Load().SignageStatus(zoneID, t)
}

// ActiveAt returns the monitored zones whose signage is valid at t, in
// config order: the only zones in which analysis is allowed at t.
func (s *Set) ActiveAt(t time.Time) []Zone { return s.d.Load().ActiveAt(t) }

// PrivacyMask returns the conservative mask of all privacy zones on a w x h
// frame: the pixels to paint over. Cached per size; do not modify it.
func (s *Set) PrivacyMask(w, h int) *Mask { return s.d.Load().PrivacyMask(w, h) }

// AnalysisMask returns the pixels of a w x h frame that may be analysed at
// t: the union of the monitored zones whose signage is valid at t, minus
// every pixel a privacy zone touches. Cached per size and set of active
// zones, so a sign expiring changes the mask at the next frame; do not
// modify it.
func (s *Set) AnalysisMask(w, h int, t time.Time) *Mask { return s.d.Load().AnalysisMask(w, h, t) }

// ZonesAt returns the IDs of the monitored zones with valid signage at t
// that contain pt (normalised), in config order; none if any privacy zone
// contains pt, because privacy wins.
func (s *Set) ZonesAt(pt Point, t time.Time) []string { return s.d.Load().ZonesAt(pt, t) }

// Assign returns the first zone of ZonesAt(pt, t), and false if there is
// none: the point must not be analysed or reported.
func (s *Set) Assign(pt Point, t time.Time) (zoneID string, ok bool) {
	return s.d.Load().Assign(pt, t)
}

// SignFor returns the registered sign of monitored zone zoneID, whose ID
// and Purpose events carry; false if the zone or its sign is unknown.
func (s *Set) SignFor(zoneID string) (Sign, bool) { return s.d.Load().SignFor(zoneID) }

func newData(zs []Zone, signs map[string]Sign) *setData {
	s := &setData{signs: maps.Clone(signs)}
	var privPolys []Polygon
	for _, z := range zs {
		z.Polygon = slices.Clone(z.Polygon)
		switch z.Kind {
		case Privacy:
			s.privacy = append(s.privacy, z)
			privPolys = append(privPolys, z.Polygon)
		case Monitored:
			s.monitored = append(s.monitored, z)
			s.monMasks = append(s.monMasks, newMaskCache([]Polygon{z.Polygon}))
		}
	}
	s.privMask = newMaskCache(privPolys)
	return s
}

// DefaultPersonHeight is the height, as a fraction of the frame height, of a
// standing person whose feet are at the bottom of the picture, for cameras
// that do not say: a camera mounted above head height over a walkway sees
// people at a third to a half of its picture height close by. Too tall only
// costs detector time; too short cuts heads off and HOG misses the person.
const DefaultPersonHeight = 0.4

// WithPersonHeight returns a copy of s whose analysis region (AnalysisMask)
// includes, above each active monitored zone, the space the body of a person
// standing in it takes: h (a fraction of the frame height, 0..1) above every
// point of the zone. h = 0 analyses the zones alone.
func (s *Set) WithPersonHeight(h float64) *Set {
	d := s.d.Load()
	out := &Set{}
	out.d.Store(&setData{privacy: d.privacy, monitored: d.monitored, signs: d.signs,
		privMask: d.privMask, monMasks: d.monMasks, personHeight: min(max(h, 0), 1)})
	return out
}

// PersonHeight returns the fraction of the frame height the analysis region
// reaches above each zone (see WithPersonHeight).
func (s *Set) PersonHeight() float64 { return s.d.Load().personHeight }

// Privacy returns the privacy zones, in config order.
func (s *setData) Privacy() []Zone { return slices.Clone(s.privacy) }

// Monitored returns the monitored zones, in config order.
func (s *setData) Monitored() []Zone { return slices.Clone(s.monitored) }

// SignageStatus returns the state at t of the sign of monitored zone
// zoneID: SignMissing when the zone names no sign, the sign is not
// registered, or there is no monitored zone zoneID.
func (s *setData) SignageStatus(zoneID string, t time.Time) SignStatus {
	for _, z := range s.monitored {
		if z.ID == zoneID {
			return s.status(z, t)
		}
	}
	return SignMissing
}

func (s *setData) status(z Zone, t time.Time) SignStatus {
	if z.Signage == "" {
		return SignMissing
	}
	sign, ok := s.signs[z.Signage]
	if !ok {
		return SignMissing
	}
	return sign.StatusAt(t)
}

// ActiveAt returns the monitored zones whose signage is valid at t, in
// config order: the only zones in which analysis is allowed at t.
func (s *setData) ActiveAt(t time.Time) []Zone {
	var out []Zone
	for _, z := range s.monitored {
		if s.status(z, t) == SignValid {
			out = append(out, z)
		}
	}
	return out
}

// PrivacyMask returns the conservative mask of all privacy zones on a w x h
// frame: the pixels to paint over. Cached per size; do not modify it.
func (s *setData) PrivacyMask(w, h int) *Mask { return s.privMask.Get(w, h) }

// AnalysisMask returns the pixels of a w x h frame that may be analysed at
// t, the analysis region: the union of the monitored zones whose signage is
// valid at t, each raised by the person height (the bodies of people whose
// feet are in the zone), minus every pixel a privacy zone touches. Privacy
// always wins: a privacy zone is painted before detection and stays out of
// the region even where a body would overlap it. Whether a person counts is
// decided by their feet alone (ZonesAt). Cached per size and set of active
// zones, so a sign expiring changes the mask at the next frame; do not
// modify it.
func (s *setData) AnalysisMask(w, h int, t time.Time) *Mask {
	var b strings.Builder
	for _, z := range s.monitored {
		if s.status(z, t) == SignValid {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
	}
	k := analysisKey{w: w, h: h, active: b.String()}
	return s.analysis.get(k, func() *Mask {
		m := Rasterize(nil, w, h)
		for i := range s.monitored {
			if k.active[i] == 1 {
				m = m.Union(s.monMasks[i].Get(w, h))
			}
		}
		// Rounded up: a pixel short would cut the top of the head.
		m = m.Raise(int(math.Ceil(s.personHeight * float64(h))))
		return m.Subtract(s.PrivacyMask(w, h))
	})
}

// ZonesAt returns the IDs of the monitored zones with valid signage at t
// that contain pt (normalised), in config order; none if any privacy zone
// contains pt, because privacy wins.
func (s *setData) ZonesAt(pt Point, t time.Time) []string {
	for _, z := range s.privacy {
		if z.Polygon.Contains(pt) {
			return nil
		}
	}
	var ids []string
	for _, z := range s.monitored {
		if z.Polygon.Contains(pt) && s.status(z, t) == SignValid {
			ids = append(ids, z.ID)
		}
	}
	return ids
}

// Assign returns the first zone of ZonesAt(pt, t), and false if there is
// none: the point must not be analysed or reported.
func (s *setData) Assign(pt Point, t time.Time) (zoneID string, ok bool) {
	ids := s.ZonesAt(pt, t)
	if len(ids) == 0 {
		return "", false
	}
	return ids[0], true
}

// SignFor returns the registered sign of monitored zone zoneID, whose ID
// and Purpose events carry; false if the zone or its sign is unknown.
func (s *setData) SignFor(zoneID string) (Sign, bool) {
	for _, z := range s.monitored {
		if z.ID == zoneID {
			sign, ok := s.signs[z.Signage]
			return sign, ok && z.Signage != ""
		}
	}
	return Sign{}, false
}
