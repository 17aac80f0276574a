package zones

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Span is a run of pixels [X0, X1) in one row of a Mask.
type Span struct{ X0, X1 int }

// Mask is a set of pixels of a W x H frame, stored as spans per row so that
// painting a frame is a few memsets per row. Rows has H entries; each row's
// spans are sorted, non-empty, within [0, W) and merged (no two touch).
// A Mask returned by this package is never modified afterwards: share it
// freely, but do not write to it.
type Mask struct {
	W, H int
	Rows [][]Span
}

// rasterEps widens every polygon by this many pixels before rasterising.
// Scaling normalised coordinates to pixels rounds; without the slack a
// vertex lying exactly on a pixel boundary could miss the pixel it
// touches. The cost is a pixel of over-masking only where an outline lies
// within a millionth of a pixel of a pixel edge.
const rasterEps = 1e-6

// Rasterize returns the conservative mask of the union of polys on a w x h
// frame: pixel (x, y) covers [x/w, (x+1)/w] x [y/h, (y+1)/h] in normalised
// coordinates, and it is in the mask iff that closed square meets a
// polygon, inside or on its outline. So every pixel a polygon touches is
// masked and nothing leaks at the edges; a pixel whose corner or edge merely
// touches the outline is masked too. Polygons are assumed valid
// (Polygon.Validate); invalid ones are rasterised as their even-odd region
// plus their outline. w or h <= 0 gives an empty mask.
func Rasterize(polys []Polygon, w, h int) *Mask {
	w, h = max(w, 0), max(h, 0)
	m := &Mask{W: w, H: h, Rows: make([][]Span, h)}
	if w == 0 || h == 0 {
		return m
	}
	var r rasterizer
	for _, p := range polys {
		r.add(p, w, h)
	}
	r.fill(m)
	return m
}

type interval struct{ a, b float64 } // closed x-range in pixel units

type rasterizer struct {
	spans [][]Span // per row, unsorted, may overlap
	pts   []Point
	xs    []float64
	ivs   []interval
}

// add rasterises one polygon. For each pixel row it computes the
// projection onto x of (polygon ∩ row band). Every point of that set either
// lies on the outline (covered by the edges clipped to the band) or is
// interior and can move straight up, inside the polygon, until it meets the
// outline (covered again by the clipped edges) or the band's top (covered
// by the even-odd interior just below the top line). So the union of those
// x-ranges is exactly the projection, including several disjoint intervals
// for a non-convex polygon.
func (r *rasterizer) add(p Polygon, w, h int) {
	if len(p) == 0 {
		return
	}
	if r.spans == nil {
		r.spans = make([][]Span, h)
	}
	r.pts = r.pts[:0]
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, q := range p {
		if math.IsNaN(q.X) || math.IsNaN(q.Y) {
			return // not a region; Validate refuses it
		}
		pt := Point{X: q.X * float64(w), Y: q.Y * float64(h)}
		r.pts = append(r.pts, pt)
		minY, maxY = math.Min(minY, pt.Y), math.Max(maxY, pt.Y)
	}
	y0 := clampInt(ceilInt(minY-rasterEps)-1, 0, h-1)
	y1 := clampInt(floorInt(maxY+rasterEps), 0, h-1)
	if maxY+rasterEps < 0 || minY-rasterEps > float64(h) {
		return
	}
	pts := r.pts
	n := len(pts)
	for y := y0; y <= y1; y++ {
		top, bot := float64(y)-rasterEps, float64(y+1)+rasterEps
		r.ivs = r.ivs[:0]
		for i := 0; i < n; i++ {
			a, b := pts[i], pts[(i+1)%n]
			if lo, hi, ok := clipEdge(a, b, top, bot); ok {
				r.ivs = append(r.ivs, interval{lo, hi})
			}
		}
		r.scanline(top)
		for _, iv := range r.ivs {
			x0 := clampInt(ceilInt(iv.a-rasterEps)-1, 0, w)
			x1 := clampInt(floorInt(iv.b+rasterEps)+1, 0, w)
			if x0 < x1 {
				r.spans[y] = append(r.spans[y], Span{x0, x1})
			}
		}
	}
}

// scanline appends the intervals of the polygon's even-odd interior on the
// line just below y=yy (larger y, inside the band), with their ends taken at
// yy. A vertex exactly on yy counts as above the line, which is what the
// limit from inside the band gives.
func (r *rasterizer) scanline(yy float64) {
	r.xs = r.xs[:0]
	pts := r.pts
	n := len(pts)
	for i := 0; i < n; i++ {
		a, b := pts[i], pts[(i+1)%n]
		if (a.Y > yy) != (b.Y > yy) {
			r.xs = append(r.xs, xAt(a, b, yy))
		}
	}
	if len(r.xs) < 2 {
		return
	}
	slices.Sort(r.xs)
	for i := 0; i+1 < len(r.xs); i += 2 {
		r.ivs = append(r.ivs, interval{r.xs[i], r.xs[i+1]})
	}
}

// xAt is the x where segment ab meets the line y=yy, computed from the lower
// endpoint so both directions of an edge give the same value, and clamped to
// the segment's x-range so rounding cannot push it outside the edge.
func xAt(a, b Point, yy float64) float64 {
	if a.Y > b.Y {
		a, b = b, a
	}
	if a.Y == b.Y {
		return a.X
	}
	x := a.X + (yy-a.Y)*(b.X-a.X)/(b.Y-a.Y)
	return math.Max(math.Min(a.X, b.X), math.Min(math.Max(a.X, b.X), x))
}

// clipEdge returns the x-range of segment ab within the band top <= y <= bot.
func clipEdge(a, b Point, top, bot float64) (lo, hi float64, ok bool) {
	if a.Y > b.Y {
		a, b = b, a
	}
	if b.Y < top || a.Y > bot {
		return 0, 0, false
	}
	xa, xb := a.X, b.X
	if a.Y < top {
		xa = xAt(a, b, top)
	}
	if b.Y > bot {
		xb = xAt(a, b, bot)
	}
	return math.Min(xa, xb), math.Max(xa, xb), true
}

// fill sorts and merges each row's spans into m, sharing one backing array.
func (r *rasterizer) fill(m *Mask) {
	total := 0
	for _, row := range r.spans {
		total += len(row)
	}
	backing := make([]Span, 0, total)
	for y, row := range r.spans {
		if len(row) == 0 {
			continue
		}
		start := len(backing)
		backing = appendMerged(backing, row)
		m.Rows[y] = backing[start:len(backing):len(backing)]
	}
}

// appendMerged sorts row and appends its union, touching runs joined, to dst.
func appendMerged(dst, row []Span) []Span {
	slices.SortFunc(row, func(a, b Span) int { return a.X0 - b.X0 })
	cur := row[0]
	for _, s := range row[1:] {
		if s.X0 <= cur.X1 {
			cur.X1 = max(cur.X1, s.X1)
			continue
		}
		dst = append(dst, cur)
		cur = s
	}
	return append(dst, cur)
}

// Contains reports whether pixel (x, y) is in the mask.
func (m *Mask) Contains(x, y int) bool {
	if y < 0 || y >= len(m.Rows) || x < 0 || x >= m.W {
		return false
	}
	row := m.Rows[y]
	i := sort.Search(len(row), func(i int) bool { return row[i].X1 > x })
	return i < len(row) && row[i].X0 <= x
}

// Count returns the number of pixels in the mask.
func (m *Mask) Count() int {
	n := 0
	for _, row := range m.Rows {
		for _, s := range row {
			n += s.X1 - s.X0
		}
	}
	return n
}

// Bounds returns the half-open bounding box [x0,x1) x [y0,y1) of the mask's
// pixels; all zero when the mask is empty.
func (m *Mask) Bounds() (x0, y0, x1, y1 int) {
	first := true
	for y, row := range m.Rows {
		if len(row) == 0 {
			continue
		}
		if first {
			x0, y0, x1 = row[0].X0, y, row[len(row)-1].X1
			first = false
		}
		x0 = min(x0, row[0].X0)
		x1 = max(x1, row[len(row)-1].X1)
		y1 = y + 1
	}
	return x0, y0, x1, y1
}

// Union returns the pixels in m or o, as a new mask. Both must have the
// same size: combining masks of different frame sizes is the stream-mixup
// bug this package exists to prevent, so it panics.
func (m *Mask) Union(o *Mask) *Mask {
	m.sameSize(o)
	out := &Mask{W: m.W, H: m.H, Rows: make([][]Span, m.H)}
	var buf []Span
	for y := range out.Rows {
		a, b := m.Rows[y], o.Rows[y]
		switch {
		case len(a) == 0 && len(b) == 0:
			continue
		case len(b) == 0:
			out.Rows[y] = slices.Clone(a)
			continue
		case len(a) == 0:
			out.Rows[y] = slices.Clone(b)
			continue
		}
		buf = append(append(buf[:0], a...), b...)
		out.Rows[y] = appendMerged(nil, buf)
	}
	return out
}

// Subtract returns the pixels in m and not in o, as a new mask. With o a
// privacy mask this is the precedence rule: o is conservative, so any pixel
// a privacy zone touches at all is left out of analysis.
func (m *Mask) Subtract(o *Mask) *Mask {
	m.sameSize(o)
	out := &Mask{W: m.W, H: m.H, Rows: make([][]Span, m.H)}
	for y := range out.Rows {
		a, b := m.Rows[y], o.Rows[y]
		if len(a) == 0 {
			continue
		}
		if len(b) == 0 {
			out.Rows[y] = slices.Clone(a)
			continue
		}
		var res []Span
		j := 0
		for _, s := range a {
			x := s.X0
			for j < len(b) && b[j].X1 <= x {
				j++
			}
			for k := j; k < len(b) && b[k].X0 < s.X1; k++ {
				if b[k].X0 > x {
					res = append(res, Span{x, b[k].X0})
				}
				x = max(x, b[k].X1)
			}
			if x < s.X1 {
				res = append(res, Span{x, s.X1})
			}
		}
		out.Rows[y] = res
	}
	return out
}

func (m *Mask) sameSize(o *Mask) {
	if m.W != o.W || m.H != o.H || len(m.Rows) != len(o.Rows) {
		panic(fmt.Sprintf("zones: combining a %dx%d mask with a %dx%d one", m.W, m.H, o.W, o.H))
	}
}

func ceilInt(v float64) int  { return clampFloat(math.Ceil(v)) }
func floorInt(v float64) int { return clampFloat(math.Floor(v)) }

// clampFloat converts to int without the undefined results of huge or
// infinite values (a fuzzed polygon can hold them).
func clampFloat(v float64) int {
	const lim = 1 << 40
	switch {
	case math.IsNaN(v):
		return 0
	case v > lim:
		return lim
	case v < -lim:
		return -lim
	}
	return int(v)
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// Raise returns m plus every pixel up to px rows above one of its pixels,
// as a new mask: the space the bodies of people standing on m take in the
// picture. px <= 0 gives a copy of m.
func (m *Mask) Raise(px int) *Mask {
	out := m.Union(&Mask{W: m.W, H: m.H, Rows: make([][]Span, m.H)})
	// out covers shifts [0, done]; uniting it with itself shifted by at
	// most done+1 rows covers a contiguous range again, so log2(px) unions do.
	for done := 0; done < min(px, m.H); {
		s := min(done+1, px-done)
		up := &Mask{W: m.W, H: m.H, Rows: make([][]Span, m.H)}
		copy(up.Rows, out.Rows[s:])
		out = out.Union(up)
		done += s
	}
	return out
}
