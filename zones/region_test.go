package zones_test

import (
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

// TestAnalysisRegion checks the analysis region pixel by pixel against the
// rule written out independently: a pixel is analysed iff it lies in an
// active zone or at most personHeight above one, and no privacy zone
// touches it.
func TestAnalysisRegion(t *testing.T) {
	const w, h = 100, 100
	sq := func(x0, y0, x1, y1 float64) zones.Polygon {
		return zones.Polygon{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
	}
	zs := []zones.Zone{
		// A ground strip low in the picture, a slanted one, and an unsigned one.
		{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: sq(0.105, 0.705, 0.495, 0.895)},
		{ID: "ramp", Kind: zones.Monitored, Signage: "s", Polygon: zones.Polygon{{X: 0.6, Y: 0.5}, {X: 0.9, Y: 0.3}, {X: 0.9, Y: 0.6}, {X: 0.6, Y: 0.8}}},
		{ID: "unsigned", Kind: zones.Monitored, Signage: "nosuch", Polygon: sq(0.0, 0.0, 0.1, 0.1)},
		// A privacy door above the floor, where heads would be.
		{ID: "door", Kind: zones.Privacy, Polygon: sq(0.2, 0.4, 0.3, 0.6)},
	}
	signs := map[string]zones.Sign{"s": {ID: "s", VerifiedAt: verified, ExpiresAt: expires}}
	for _, ph := range []float64{0, 0.25, 0.5, 1} {
		set := zones.NewSet(zs, signs).WithPersonHeight(ph)
		am := set.AnalysisMask(w, h, t0)
		priv := set.PrivacyMask(w, h)
		raw := activeZones(set, w, h)
		raise := int(ph*h + 0.999999)
		for y := range h {
			for x := range w {
				want := false
				for dy := 0; dy <= raise && y+dy < h; dy++ {
					if raw.Contains(x, y+dy) {
						want = true
						break
					}
				}
				want = want && !priv.Contains(x, y)
				if got := am.Contains(x, y); got != want {
					t.Fatalf("person height %v: pixel (%d,%d) analysed=%v, want %v", ph, x, y, got, want)
				}
			}
		}
		if ph > 0 && am.Contains(25, 50) {
			t.Errorf("person height %v: a privacy pixel above the floor is analysed", ph)
		}
		if am.Contains(5, 5) {
			t.Errorf("person height %v: the unsigned zone is analysed", ph)
		}
	}
}

// activeZones rasterises the signed zones alone, privacy not subtracted.
func activeZones(set *zones.Set, w, h int) *zones.Mask {
	var polys []zones.Polygon
	for _, z := range set.Monitored() {
		if z.Signage == "s" {
			polys = append(polys, z.Polygon)
		}
	}
	return zones.Rasterize(polys, w, h)
}

func TestRaise(t *testing.T) {
	m := zones.Rasterize([]zones.Polygon{{{X: 0.5, Y: 0.5}, {X: 0.6, Y: 0.5}, {X: 0.6, Y: 0.6}, {X: 0.5, Y: 0.6}}}, 20, 20)
	for _, px := range []int{0, 1, 2, 3, 7, 10, 19, 40} {
		r := m.Raise(px)
		for y := range 20 {
			for x := range 20 {
				want := false
				for dy := 0; dy <= px && y+dy < 20; dy++ {
					want = want || m.Contains(x, y+dy)
				}
				if r.Contains(x, y) != want {
					t.Fatalf("Raise(%d): pixel (%d,%d) = %v, want %v", px, x, y, !want, want)
				}
			}
		}
	}
}
