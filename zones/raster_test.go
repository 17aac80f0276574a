package zones_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

// pixels lists a mask's pixels as "x,y" strings, sorted, for readable diffs.
func pixels(m *zones.Mask) []string {
	var out []string
	for y, row := range m.Rows {
		for _, s := range row {
			for x := s.X0; x < s.X1; x++ {
				out = append(out, fmt.Sprintf("%d,%d", x, y))
			}
		}
	}
	sort.Strings(out)
	return out
}

func rect(x0, y0, x1, y1 int) []string { // half-open pixel rectangle
	var out []string
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			out = append(out, fmt.Sprintf("%d,%d", x, y))
		}
	}
	sort.Strings(out)
	return out
}

// checkSpans fails if m breaks the Mask invariants: H rows, spans sorted,
// non-empty, inside [0,W), and merged so that no two touch.
func checkSpans(t testing.TB, m *zones.Mask) {
	t.Helper()
	if len(m.Rows) != m.H {
		t.Fatalf("mask has %d rows, want H=%d", len(m.Rows), m.H)
	}
	for y, row := range m.Rows {
		for i, s := range row {
			if s.X0 < 0 || s.X1 > m.W || s.X0 >= s.X1 {
				t.Fatalf("row %d span %d = %v out of range or empty (W=%d)", y, i, s, m.W)
			}
			if i > 0 && row[i-1].X1 >= s.X0 {
				t.Fatalf("row %d spans %v and %v not sorted and merged", y, row[i-1], s)
			}
		}
	}
}

// The rule under test: pixel (x,y) is the closed square [x/w,(x+1)/w] x
// [y/h,(y+1)/h]; it is masked iff that closed square meets the polygon, so
// pixels that only share an edge or a corner with the polygon's outline are
// masked too.
func TestRasterizeHandChecked(t *testing.T) {
	tests := []struct {
		name  string
		polys []zones.Polygon
		w, h  int
		want  []string
	}{
		{
			// Wholly inside pixel (3,2) of a 10x10 frame: only that pixel.
			name:  "tiny triangle in one pixel",
			polys: []zones.Polygon{poly(0.32, 0.22, 0.38, 0.22, 0.35, 0.28)},
			w:     10, h: 10,
			want: []string{"3,2"},
		},
		{
			// Pixel-aligned square covering pixels x 2..3, y 4..5 of an 8x8
			// frame; its outline lies on pixel boundaries, so the ring of
			// pixels sharing an edge or corner with it (x 1..4, y 3..6) is
			// masked too.
			name:  "pixel-aligned square",
			polys: []zones.Polygon{poly(0.25, 0.5, 0.5, 0.5, 0.5, 0.75, 0.25, 0.75)},
			w:     8, h: 8,
			want: rect(1, 3, 5, 7),
		},
		{
			name:  "full frame",
			polys: []zones.Polygon{poly(0, 0, 1, 0, 1, 1, 0, 1)},
			w:     5, h: 3,
			want: rect(0, 0, 5, 3),
		},
		{
			// A thin sliver crossing row 0 into row 1 near x=1.7: every pixel it
			// passes through, nothing else.
			name:  "diagonal sliver",
			polys: []zones.Polygon{poly(0.05, 0.1, 0.95, 0.45, 0.95, 0.46)},
			w:     4, h: 4,
			want: []string{"0,0", "1,0", "1,1", "2,1", "3,1"},
		},
		{
			// A U shape: two arms in rows 0-1 with a gap at x 2..3 that
			// must stay unmasked (the band holds two disjoint intervals).
			name: "non-convex U",
			polys: []zones.Polygon{poly(
				0.05, 0.05, 0.15, 0.05, 0.15, 0.55, 0.45, 0.55,
				0.45, 0.05, 0.55, 0.05, 0.55, 0.65, 0.05, 0.65)},
			w: 10, h: 10,
			want: func() []string {
				s := append(rect(0, 0, 2, 7), rect(4, 0, 6, 7)...)
				s = append(s, rect(2, 5, 4, 7)...)
				sort.Strings(s)
				return s
			}(),
		},
		{
			name: "two polygons merge",
			polys: []zones.Polygon{
				poly(0.05, 0.05, 0.15, 0.05, 0.15, 0.15, 0.05, 0.15),
				poly(0.25, 0.05, 0.35, 0.05, 0.35, 0.15),
			},
			w: 10, h: 10,
			want: rect(0, 0, 4, 2),
		},
		{"no polygons", nil, 4, 4, nil},
		{"zero size", []zones.Polygon{poly(0, 0, 1, 0, 0, 1)}, 0, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := zones.Rasterize(tt.polys, tt.w, tt.h)
			checkSpans(t, m)
			if got := pixels(m); !slices.Equal(got, tt.want) {
				t.Errorf("mask pixels\n got %v\nwant %v", got, tt.want)
			}
			if m.Count() != len(tt.want) {
				t.Errorf("Count() = %d, want %d", m.Count(), len(tt.want))
			}
		})
	}
}

func TestMaskOps(t *testing.T) {
	a := zones.Rasterize([]zones.Polygon{poly(0, 0, 0.5, 0, 0.5, 1, 0, 1)}, 10, 4)         // x 0..5: the edge at x=5 touches pixel 5
	b := zones.Rasterize([]zones.Polygon{poly(0.55, 0, 0.75, 0, 0.75, 1, 0.55, 1)}, 10, 4) // x 5..7
	u := a.Union(b)
	checkSpans(t, u)
	if !slices.Equal(pixels(u), rect(0, 0, 8, 4)) {
		t.Errorf("Union = %v", pixels(u))
	}
	d := u.Subtract(b)
	checkSpans(t, d)
	if !slices.Equal(pixels(d), rect(0, 0, 5, 4)) {
		t.Errorf("Subtract = %v", pixels(d))
	}
	hole := zones.Rasterize([]zones.Polygon{poly(0.25, 0.3, 0.35, 0.3, 0.35, 0.45, 0.25, 0.45)}, 10, 4)
	d = u.Subtract(hole) // x 2..3, y 1 cut out of the middle of a span
	checkSpans(t, d)
	if d.Contains(2, 1) || d.Contains(3, 1) || !d.Contains(1, 1) || !d.Contains(4, 1) || d.Count() != 32-2 {
		t.Errorf("Subtract hole = %v", pixels(d))
	}
	x0, y0, x1, y1 := d.Bounds()
	if x0 != 0 || y0 != 0 || x1 != 8 || y1 != 4 {
		t.Errorf("Bounds() = %d,%d,%d,%d", x0, y0, x1, y1)
	}
	x0, y0, x1, y1 = hole.Bounds()
	if x0 != 2 || y0 != 1 || x1 != 4 || y1 != 2 {
		t.Errorf("hole Bounds() = %d,%d,%d,%d", x0, y0, x1, y1)
	}
	if e := zones.Rasterize(nil, 10, 4); e.Count() != 0 || u.Subtract(u).Count() != 0 {
		t.Error("empty mask not empty")
	}
	for _, p := range [][2]int{{-1, 0}, {0, -1}, {10, 0}, {0, 4}} {
		if u.Contains(p[0], p[1]) {
			t.Errorf("Contains(%v) outside the frame", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Union of different sizes did not panic")
		}
	}()
	a.Union(zones.Rasterize(nil, 9, 4))
}

func TestCoverage(t *testing.T) {
	tests := []struct {
		name     string
		polys    []zones.Polygon
		min, max float64
	}{
		{"none", nil, 0, 0},
		{"full", []zones.Polygon{poly(0, 0, 1, 0, 1, 1, 0, 1)}, 1, 1},
		{"left half", []zones.Polygon{poly(0, 0, 0.5, 0, 0.5, 1, 0, 1)}, 0.5, 0.5 + 1.0/512},
		{"two overlapping halves", []zones.Polygon{
			poly(0, 0, 0.5, 0, 0.5, 1, 0, 1), poly(0.25, 0, 0.75, 0, 0.75, 1, 0.25, 1)}, 0.75, 0.75 + 2.0/512},
		{"96% wall to wall", []zones.Polygon{poly(0, 0, 0.96, 0, 0.96, 1, 0, 1)}, 0.96, 0.965},
		{"triangle", []zones.Polygon{poly(0, 0, 1, 0, 0, 1)}, 0.5, 0.505},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := zones.Coverage(tt.polys); c < tt.min || c > tt.max {
				t.Errorf("Coverage() = %v, want in [%v,%v]", c, tt.min, tt.max)
			}
		})
	}
}

// --- property test against an independent per-pixel reference ---

type rectN struct{ x0, y0, x1, y1 float64 } // closed, normalised

func inRect(p zones.Point, r rectN) bool {
	return p.X >= r.x0 && p.X <= r.x1 && p.Y >= r.y0 && p.Y <= r.y1
}

// refInside is a plain crossing-number test, written apart from the package's.
func refInside(p zones.Polygon, q zones.Point) bool {
	c := false
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		if (a.Y <= q.Y && b.Y > q.Y) || (b.Y <= q.Y && a.Y > q.Y) {
			if q.X < a.X+(q.Y-a.Y)/(b.Y-a.Y)*(b.X-a.X) {
				c = !c
			}
		}
	}
	return c
}

func cross(o, a, b zones.Point) float64 { return (a.X-o.X)*(b.Y-o.Y) - (a.Y-o.Y)*(b.X-o.X) }

func refSegments(p1, p2, q1, q2 zones.Point) bool {
	between := func(a, b, c zones.Point) bool {
		return math.Min(a.X, b.X) <= c.X && c.X <= math.Max(a.X, b.X) &&
			math.Min(a.Y, b.Y) <= c.Y && c.Y <= math.Max(a.Y, b.Y)
	}
	d1, d2 := cross(q1, q2, p1), cross(q1, q2, p2)
	d3, d4 := cross(p1, p2, q1), cross(p1, p2, q2)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return (d1 == 0 && between(q1, q2, p1)) || (d2 == 0 && between(q1, q2, p2)) ||
		(d3 == 0 && between(p1, p2, q1)) || (d4 == 0 && between(p1, p2, q2))
}

// refIntersects: closed polygon region meets closed rectangle r iff a vertex
// lies in r, a corner of r lies inside the polygon, or an edge crosses an
// edge of r.
func refIntersects(p zones.Polygon, r rectN) bool {
	for _, v := range p {
		if inRect(v, r) {
			return true
		}
	}
	corners := []zones.Point{{X: r.x0, Y: r.y0}, {X: r.x1, Y: r.y0}, {X: r.x1, Y: r.y1}, {X: r.x0, Y: r.y1}}
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		for j := range corners {
			if refSegments(a, b, corners[j], corners[(j+1)%4]) {
				return true
			}
		}
	}
	for _, c := range corners {
		if refInside(p, c) {
			return true
		}
	}
	return false
}

// randomPolygon returns a valid polygon: a star-shaped one (points sorted by
// angle around a centre, often non-convex), or a random triangle, at
// assorted scales from sub-pixel to full frame.
func randomPolygon(r *rand.Rand) zones.Polygon {
	for {
		var p zones.Polygon
		scale := []float64{0.002, 0.02, 0.1, 0.3, 0.6}[r.IntN(5)]
		if r.IntN(4) == 0 {
			cx, cy := r.Float64(), r.Float64()
			for range 3 {
				p = append(p, zones.Point{
					X: clamp01(cx + (r.Float64()-0.5)*2*scale),
					Y: clamp01(cy + (r.Float64()-0.5)*2*scale),
				})
			}
		} else {
			n := 3 + r.IntN(10)
			cx, cy := r.Float64(), r.Float64()
			angles := make([]float64, n)
			for i := range angles {
				angles[i] = r.Float64() * 2 * math.Pi
			}
			slices.Sort(angles)
			for i, a := range angles {
				// Keep angular gaps under pi so the star stays simple.
				next := angles[(i+1)%n]
				if i == n-1 {
					next += 2 * math.Pi
				}
				if next-a >= math.Pi*0.95 {
					p = nil
					break
				}
				rad := scale * (0.2 + 0.8*r.Float64())
				p = append(p, zones.Point{
					X: clamp01(cx + rad*math.Cos(a)),
					Y: clamp01(cy + rad*math.Sin(a)),
				})
			}
		}
		if p.Validate() == nil {
			return p
		}
	}
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

func TestRasterizeProperty(t *testing.T) {
	seed := uint64(20240601)
	r := rand.New(rand.NewPCG(seed, 7))
	const cases = 300
	over, masked := 0, 0
	for c := range cases {
		w, h := 1+r.IntN(200), 1+r.IntN(200)
		p := randomPolygon(r)
		if c%3 == 0 {
			// Put the vertices on pixel boundaries, where off-by-one
			// mistakes in the closed-square rule show.
			snapped := slices.Clone(p)
			for i, v := range snapped {
				snapped[i] = zones.Point{X: math.Round(v.X*float64(w)) / float64(w), Y: math.Round(v.Y*float64(h)) / float64(h)}
			}
			if snapped.Validate() == nil {
				p = snapped
			}
		}
		m := zones.Rasterize([]zones.Polygon{p}, w, h)
		checkSpans(t, m)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d case %d (%dx%d, polygon %v): %s", seed, c, w, h, p, fmt.Sprintf(format, args...))
		}
		// Pixels outside the polygon's bounding box (widened by one) can
		// meet it in neither the reference nor, conservatively, the mask.
		bx0, by0, bx1, by1 := 1.0, 1.0, 0.0, 0.0
		for _, v := range p {
			bx0, by0 = math.Min(bx0, v.X), math.Min(by0, v.Y)
			bx1, by1 = math.Max(bx1, v.X), math.Max(by1, v.Y)
		}
		px0, py0 := max(0, int(bx0*float64(w))-2), max(0, int(by0*float64(h))-2)
		px1, py1 := min(w-1, int(bx1*float64(w))+2), min(h-1, int(by1*float64(h))+2)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				inBox := x >= px0 && x <= px1 && y >= py0 && y <= py1
				got := m.Contains(x, y)
				if !inBox {
					if got {
						fail("pixel %d,%d masked far outside the polygon's bounding box", x, y)
					}
					continue
				}
				pix := rectN{float64(x) / float64(w), float64(y) / float64(h), float64(x+1) / float64(w), float64(y+1) / float64(h)}
				touches := refIntersects(p, pix)
				if touches && !got {
					fail("pixel %d,%d touches the polygon but is not masked (leak)", x, y)
				}
				if got {
					masked++
				}
				if got && !touches {
					over++
					// Over-masking is allowed only right at the outline:
					// the pixel grown by one pixel each way must meet it.
					grown := rectN{float64(x-1) / float64(w), float64(y-1) / float64(h), float64(x+2) / float64(w), float64(y+2) / float64(h)}
					if !refIntersects(p, grown) {
						fail("pixel %d,%d masked but more than a pixel away from the polygon", x, y)
					}
				}
			}
		}
	}
	t.Logf("seed %d: %d polygons, %d masked pixels, %d over-masked (within a pixel of the outline)", seed, cases, masked, over)
}
