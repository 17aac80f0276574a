// Package privacycheck proves that a picture holds no private pixel.
//
// It deliberately shares no code with the zones rasteriser or the mask stage:
// each pixel is tested exactly against each privacy polygon (polygon/rectangle
// intersection), so a bug in the fast span rasteriser cannot hide itself here.
// Inspectors' verify runs and the mask tests both use it.
package privacycheck

import (
	"fmt"
	"image"
	"sync"
)

// Polygon is a list of vertices in normalised frame coordinates ([x, y] in 0..1).
type Polygon [][2]float64

// Pixels is the set of pixel offsets (y*w + x) that must hold the fill colour.
type Pixels struct {
	W, H int
	Idx  []int32
}

// Region computes the pixels of a w x h frame whose area touches any polygon.
// A pixel (x, y) covers [x/w, (x+1)/w] x [y/h, (y+1)/h]; touching the closed
// square counts, matching the promise that masks are conservative.
func Region(polys []Polygon, w, h int) Pixels {
	px := Pixels{W: w, H: h}
	for y := 0; y < h; y++ {
		y0, y1 := float64(y)/float64(h), float64(y+1)/float64(h)
		for x := 0; x < w; x++ {
			x0, x1 := float64(x)/float64(w), float64(x+1)/float64(w)
			for _, p := range polys {
				if touches(p, x0, y0, x1, y1) {
					px.Idx = append(px.Idx, int32(y*w+x))
					break
				}
			}
		}
	}
	return px
}

// Cache memoises Region per frame size; it is safe for concurrent use.
type Cache struct {
	polys []Polygon
	mu    sync.Mutex
	m     map[image.Point]Pixels
}

// NewCache returns a cache for polys.
func NewCache(polys []Polygon) *Cache {
	return &Cache{polys: polys, m: map[image.Point]Pixels{}}
}

// Get returns the private pixels of a w x h frame.
func (c *Cache) Get(w, h int) Pixels {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := image.Pt(w, h)
	if px, ok := c.m[k]; ok {
		return px
	}
	px := Region(c.polys, w, h)
	c.m[k] = px
	return px
}

// Result is what one picture's check found.
type Result struct {
	Checked int // private pixels checked
	Leaked  int // of them, pixels not equal to the fill colour
	First   image.Point
}

// Check compares every private pixel of a packed BGR picture with fill (B, G, R),
// allowing each channel to differ by at most tol (0 for lossless frames; lossy
// re-encodes need a little).
func Check(bgr []byte, px Pixels, fill [3]uint8, tol uint8) (Result, error) {
	if len(bgr) != px.W*px.H*3 {
		return Result{}, fmt.Errorf("privacycheck: picture has %d bytes, want %dx%dx3 = %d", len(bgr), px.W, px.H, px.W*px.H*3)
	}
	r := Result{Checked: len(px.Idx), First: image.Pt(-1, -1)}
	for _, i := range px.Idx {
		o := int(i) * 3
		if diff(bgr[o], fill[0]) > tol || diff(bgr[o+1], fill[1]) > tol || diff(bgr[o+2], fill[2]) > tol {
			if r.Leaked == 0 {
				r.First = image.Pt(int(i)%px.W, int(i)/px.W)
			}
			r.Leaked++
		}
	}
	return r, nil
}

func diff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// touches reports whether polygon p and the closed rectangle intersect.
func touches(p Polygon, x0, y0, x1, y1 float64) bool {
	n := len(p)
	if n == 0 {
		return false
	}
	// A vertex inside the rectangle.
	for _, v := range p {
		if v[0] >= x0 && v[0] <= x1 && v[1] >= y0 && v[1] <= y1 {
			return true
		}
	}
	// The rectangle's centre inside the polygon (the rectangle lies within it).
	if inside(p, (x0+x1)/2, (y0+y1)/2) {
		return true
	}
	// An edge of the polygon crossing an edge of the rectangle.
	rect := [4][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	for i := 0; i < n; i++ {
		a, b := p[i], p[(i+1)%n]
		for j := 0; j < 4; j++ {
			if cross(a, b, rect[j], rect[(j+1)%4]) {
				return true
			}
		}
	}
	return false
}

// inside is the even-odd rule by ray casting.
func inside(p Polygon, x, y float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		a, b := p[i], p[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// cross reports whether closed segments ab and cd share a point.
func cross(a, b, c, d [2]float64) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	return (o1 == 0 && within(a, b, c)) || (o2 == 0 && within(a, b, d)) ||
		(o3 == 0 && within(c, d, a)) || (o4 == 0 && within(c, d, b))
}

func orient(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func within(a, b, p [2]float64) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// Interior returns the pixels of px at least k pixels (in x and y) from any
// pixel outside it; the frame's edge does not count as outside. Lossy
// codecs bleed the neighbouring picture into a fill's border, so recordings
// and JPEG samples are checked on the interior.
func Interior(px Pixels, k int) Pixels {
	if k <= 0 {
		return px
	}
	w, h := px.W, px.H
	in := make([]bool, w*h)
	for _, i := range px.Idx {
		in[i] = true
	}
	// Separable erosion: a k-run horizontally, then vertically.
	hor := make([]bool, w*h)
	for y := 0; y < h; y++ {
		row := in[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			if !row[x] {
				continue
			}
			ok := true
			for d := max(0, x-k); d <= min(w-1, x+k) && ok; d++ {
				ok = row[d]
			}
			hor[y*w+x] = ok
		}
	}
	out := Pixels{W: w, H: h}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !hor[y*w+x] {
				continue
			}
			ok := true
			for d := max(0, y-k); d <= min(h-1, y+k) && ok; d++ {
				ok = hor[d*w+x]
			}
			if ok {
				out.Idx = append(out.Idx, int32(y*w+x))
			}
		}
	}
	return out
}

// CheckPlanes checks a picture still in YUV 4:2:0 planes (I420) against px:
// every private pixel's luma must be fill[0], and the chroma sample that
// covers it (x/2, y/2) must be fill[1], fill[2], each within tol. A chroma
// sample is shared by up to four pixels, so one private pixel among them
// makes it private: this is the conservative rounding the planes must keep.
func CheckPlanes(y []byte, ystride int, u, v []byte, cstride int, px Pixels, fill [3]uint8, tol uint8) (Result, error) {
	cw, ch := (px.W+1)/2, (px.H+1)/2
	if px.W > 0 && px.H > 0 && (ystride < px.W || cstride < cw || len(y) < ystride*(px.H-1)+px.W ||
		len(u) < cstride*(ch-1)+cw || len(v) < cstride*(ch-1)+cw) {
		return Result{}, fmt.Errorf("privacycheck: planes of %d/%d/%d bytes (strides %d/%d) do not hold %dx%d", len(y), len(u), len(v), ystride, cstride, px.W, px.H)
	}
	res := Result{Checked: len(px.Idx), First: image.Pt(-1, -1)}
	for _, i := range px.Idx {
		x, yy := int(i)%px.W, int(i)/px.W
		c := (yy/2)*cstride + x/2
		if diff(y[yy*ystride+x], fill[0]) > tol || diff(u[c], fill[1]) > tol || diff(v[c], fill[2]) > tol {
			if res.Leaked == 0 {
				res.First = image.Pt(x, yy)
			}
			res.Leaked++
		}
	}
	return res, nil
}
