package zones

import (
	"errors"
	"fmt"
	"math"
)

// MaxPoints is the most points a polygon may have. Checking that edges do
// not cross costs the square of the count: 200,000 points kept `edge
// config check` busy for two minutes. A zone drawn by hand or traced in
// the console needs tens.
const MaxPoints = 1000

// Sentinel errors returned (wrapped) by Polygon.Validate and ParsePolygon.
var (
	// ErrTooFewPoints means a polygon needs at least three points.
	ErrTooFewPoints = errors.New("polygon has fewer than 3 points")
	// ErrOutOfRange means a coordinate lies outside 0..1 or is NaN/Inf.
	ErrOutOfRange = errors.New("coordinate outside 0..1")
	// ErrZeroArea means the polygon encloses (almost) nothing, e.g. collinear points.
	ErrZeroArea = errors.New("polygon has zero area")
	// ErrSelfIntersect means two edges cross or touch, or a vertex repeats.
	ErrSelfIntersect = errors.New("polygon intersects itself")
	// ErrBadPoint means a point in the input is not exactly two numbers.
	ErrBadPoint = errors.New("point is not a pair of numbers")
	// ErrTooManyPoints means a polygon has more than MaxPoints points.
	ErrTooManyPoints = fmt.Errorf("polygon has more than %d points", MaxPoints)
)

// minArea is the smallest accepted area in normalised units; below it a
// zone is a drawing mistake rather than an area (1e-9 of a 4K frame is
// about 0.008 of a pixel).
const minArea = 1e-9

// edgeTol is how close, in normalised units, a point must be to an edge to
// count as on it in Contains. It is far below a pixel of any real frame but
// absorbs the rounding of a point computed to lie on the edge.
const edgeTol = 1e-12

// PointError is a polygon error at one point, so that a config error can
// point at its line.
type PointError struct {
	// Point is the offending point, counted from 1.
	Point int
	err   error
}

func (e *PointError) Error() string { return e.err.Error() }

// Unwrap returns the error, which wraps one of the Err values.
func (e *PointError) Unwrap() error { return e.err }

// Area returns the polygon's absolute area in normalised units (shoelace
// formula). It is meaningful only for simple polygons.
func (p Polygon) Area() float64 {
	if len(p) < 3 {
		return 0
	}
	var s float64
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		s += a.X*b.Y - b.X*a.Y
	}
	return math.Abs(s) / 2
}

// Validate reports whether p is a usable zone: at least 3 points, every
// coordinate in 0..1, simple (no crossing or touching edges, no repeated
// vertex) and with a non-zero area. The error wraps one of ErrTooFewPoints,
// ErrOutOfRange, ErrSelfIntersect or ErrZeroArea and names the offending
// point or edges, counted from 1 as a person reads the list (edge i runs
// from point i to point i+1, the last edge back to point 1). It says what
// is wrong, not how to fix it: the caller knows where the polygon came from.
func (p Polygon) Validate() error {
	n := len(p)
	if n < 3 {
		return fmt.Errorf("%w: got %d", ErrTooFewPoints, n)
	}
	if n > MaxPoints {
		return fmt.Errorf("%w: got %d", ErrTooManyPoints, n)
	}
	for i, pt := range p {
		if !inUnit(pt.X) {
			return &PointError{Point: i + 1, err: fmt.Errorf("%w: point %d has x=%v", ErrOutOfRange, i+1, pt.X)}
		}
		if !inUnit(pt.Y) {
			return &PointError{Point: i + 1, err: fmt.Errorf("%w: point %d has y=%v", ErrOutOfRange, i+1, pt.Y)}
		}
	}
	// All points on one line is a zero-area mistake, whatever edges it
	// makes overlap; say so rather than "self-intersecting".
	if collinear(p) {
		return fmt.Errorf("%w: all %d points lie on one line", ErrZeroArea, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if p[i] == p[j] {
				return &PointError{Point: j + 1, err: fmt.Errorf("%w: points %d and %d are both (%v, %v)", ErrSelfIntersect, i+1, j+1, p[i].X, p[i].Y)}
			}
		}
	}
	for i := 0; i < n; i++ {
		a, b := p[i], p[(i+1)%n]
		for j := i + 1; j < n; j++ {
			c, d := p[j], p[(j+1)%n]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Adjacent edges share one vertex; they are bad only if they
				// fold back over each other (a spike of zero width).
				var shared, x, y Point
				if j == i+1 {
					shared, x, y = b, a, d
				} else {
					shared, x, y = a, b, c
				}
				if orient(x, shared, y) == 0 && dot(x, shared, y) > 0 {
					return fmt.Errorf("%w: edges %d and %d overlap (the outline folds back at a vertex)", ErrSelfIntersect, i+1, j+1)
				}
				continue
			}
			if segmentsIntersect(a, b, c, d) {
				return fmt.Errorf("%w: edges %d and %d cross", ErrSelfIntersect, i+1, j+1)
			}
		}
	}
	if a := p.Area(); a < minArea {
		return fmt.Errorf("%w: area %g is below %g", ErrZeroArea, a, minArea)
	}
	return nil
}

// Contains reports whether pt lies inside p by the even-odd rule; points on
// an edge (within edgeTol) count as inside, so a zone claims its outline.
func (p Polygon) Contains(pt Point) bool {
	n := len(p)
	if n == 0 {
		return false
	}
	inside := false
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := p[j], p[i]
		if distToSegment(pt, a, b) <= edgeTol {
			return true
		}
		if (a.Y > pt.Y) != (b.Y > pt.Y) {
			x := a.X + (pt.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y)
			if pt.X < x {
				inside = !inside
			}
		}
	}
	return inside
}

// ParsePolygon turns config input ([[x,y], ...]) into a validated Polygon.
// Each entry must be exactly two numbers.
func ParsePolygon(v [][]float64) (Polygon, error) {
	if len(v) > MaxPoints {
		return nil, fmt.Errorf("%w: got %d", ErrTooManyPoints, len(v))
	}
	p := make(Polygon, len(v))
	for i, xy := range v {
		if len(xy) != 2 {
			return nil, &PointError{Point: i + 1, err: fmt.Errorf("%w: point %d has %d numbers", ErrBadPoint, i+1, len(xy))}
		}
		p[i] = Point{X: xy[0], Y: xy[1]}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func inUnit(v float64) bool { return v >= 0 && v <= 1 } // false for NaN

// orient is twice the signed area of triangle abc: >0 counter-clockwise.
func orient(a, b, c Point) float64 {
	return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X)
}

// dot is the dot product of (a-o) and (b-o).
func dot(a, o, b Point) float64 {
	return (a.X-o.X)*(b.X-o.X) + (a.Y-o.Y)*(b.Y-o.Y)
}

func collinear(p Polygon) bool {
	// Find the point farthest from p[0] to span the line robustly.
	far, best := 0, 0.0
	for i := 1; i < len(p); i++ {
		if d := math.Hypot(p[i].X-p[0].X, p[i].Y-p[0].Y); d > best {
			far, best = i, d
		}
	}
	if best == 0 {
		return true
	}
	for i := range p {
		// Distance of p[i] from the line through p[0] and p[far].
		if math.Abs(orient(p[0], p[far], p[i]))/best > edgeTol {
			return false
		}
	}
	return true
}

// onSegment reports whether p, known to be collinear with ab, lies on it.
func onSegment(a, b, p Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) &&
		math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// segmentsIntersect reports whether closed segments ab and cd share a point.
func segmentsIntersect(a, b, c, d Point) bool {
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

func distToSegment(p, a, b Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p.X-a.X)*dx + (p.Y-a.Y)*dy) / l2
		t = math.Max(0, math.Min(1, t))
	}
	return math.Hypot(p.X-(a.X+t*dx), p.Y-(a.Y+t*dy))
}
