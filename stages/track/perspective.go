package track

import (
	"image"
	"math"
	"slices"
)

// perspective learns how tall a person is in the picture where their feet
// are. A fixed camera looks down on flat ground: a standing person's height
// in pixels is close to linear in the height of their feet in the picture
// (zero at the horizon, largest at the bottom). The tracker fits that line,
// robustly, to the boxes it has followed people with, and uses it to tell
// a box that cannot be one person standing where its feet are: HOG finds
// people at several scales and reports boxes two to three times a
// person's height around a group or around a person it also found
// smaller (enclosing catches the second only when the smaller box is in
// the same frame). On vtest such boxes started tracks that entered where
// nobody did. Both axes are in frame heights, so a change of resolution
// keeps what was learned.
type perspective struct {
	ys, hs []float64 // samples, a ring of perspectiveSamples
	next   int
	added  int // samples since the last fit
	ready  bool
	a, b   float64 // height = a + b*y
	lo, hi float64 // the feet heights the fit rests on (5th and 95th percentile)
}

const (
	// perspectiveSamples is how many boxes the fit rests on: about 40 s of
	// one person followed at the default 10 fps, a few seconds of a crowd,
	// so it follows a camera that was moved.
	perspectiveSamples = 400
	// perspectiveMin is how many boxes it needs before it judges any:
	// until then every box is taken.
	perspectiveMin = 60
	// perspectiveRefit is how many new samples cause a refit.
	perspectiveRefit = 20
	// tooTall is how many times the height the line expects a box may be
	// before it is not one person standing there. People differ in height
	// by a quarter either way from the average and HOG's boxes by a tenth;
	// HOG's boxes around groups and the wider scales of one person are
	// 1.6 to 3 times as tall (vtest).
	tooTall = 1.5
)

// add records the box of a person being followed, in a frame of the given
// size.
func (p *perspective) add(r image.Rectangle, size image.Point) {
	if size.Y <= 0 || r.Empty() {
		return
	}
	y, h := float64(r.Max.Y)/float64(size.Y), float64(r.Dy())/float64(size.Y)
	if len(p.ys) < perspectiveSamples {
		p.ys, p.hs = append(p.ys, y), append(p.hs, h)
	} else {
		p.ys[p.next], p.hs[p.next] = y, h
		p.next = (p.next + 1) % perspectiveSamples
	}
	p.added++
	if len(p.ys) >= perspectiveMin && (!p.ready || p.added >= perspectiveRefit) {
		p.fit()
	}
}

// fit fits the line by least squares, then twice more on the samples within
// a quarter of the height the previous fit expects: the boxes around groups
// that a track followed for a frame or two do not pull it up.
func (p *perspective) fit() {
	p.added = 0
	keep := make([]bool, len(p.ys))
	for i := range keep {
		keep[i] = true
	}
	ok := false
	for pass := range 3 {
		if pass > 0 {
			for i := range p.ys {
				e := p.a + p.b*p.ys[i]
				keep[i] = e > 0 && math.Abs(p.hs[i]-e) <= 0.25*e
			}
		}
		var n, sy, sh, syy, syh float64
		for i := range p.ys {
			if keep[i] {
				n++
				sy += p.ys[i]
				sh += p.hs[i]
				syy += p.ys[i] * p.ys[i]
				syh += p.ys[i] * p.hs[i]
			}
		}
		if n < perspectiveMin/2 {
			break
		}
		my, mh := sy/n, sh/n
		vy := syy/n - my*my
		// People seen only along one line of the picture say nothing
		// about the slope (a spread under 3 % of the frame): take their
		// mean height everywhere.
		b := 0.0
		if vy > 0.03*0.03 {
			b = (syh/n - my*mh) / vy
		}
		p.a, p.b, ok = mh-b*my, b, true
	}
	if !ok {
		p.ready = false
		return
	}
	ys := slices.Clone(p.ys)
	slices.Sort(ys)
	p.lo, p.hi = ys[len(ys)*5/100], ys[len(ys)*95/100]
	p.ready = true
}

// expected is the height (frame heights) of a person with their feet at y
// (frame heights); 0 while nothing was learned. Outside the feet heights
// seen the line is not trusted: it takes the larger of the line there and
// at the nearest height seen, so as not to call a person implausible for
// standing where nobody was seen before.
func (p *perspective) expected(y float64) float64 {
	if !p.ready {
		return 0
	}
	return max(p.a+p.b*min(max(y, p.lo), p.hi), p.a+p.b*y, 0)
}

// implausible reports whether r, in a frame of the given size, is too tall
// to be one person standing at its feet.
func (p *perspective) implausible(r image.Rectangle, size image.Point) bool {
	if size.Y <= 0 {
		return false
	}
	e := p.expected(float64(r.Max.Y) / float64(size.Y))
	return e > 0 && float64(r.Dy())/float64(size.Y) > tooTall*e
}
