package track

import (
	"image"
	"math"
	"time"
)

// axis is a constant-velocity Kalman filter on one coordinate: position p
// and velocity v, with covariance P. Four of them (feet x, feet y, width,
// height) make the track's motion model; treating the axes as independent
// keeps it a few multiplications and loses little, since a walking person's
// x and y noise are nearly uncorrelated.
type axis struct {
	p, v       float64
	pp, pv, vv float64 // covariance: var(p), cov(p,v), var(v)
}

// predict advances the filter by dt seconds. q is the variance rate of the
// acceleration (white-noise acceleration model).
func (a *axis) predict(dt, q float64) {
	if dt <= 0 {
		return
	}
	a.p += a.v * dt
	// P = F P F' + Q, F = [[1 dt] [0 1]], Q = q [[dt^3/3 dt^2/2] [dt^2/2 dt]].
	pp := a.pp + 2*dt*a.pv + dt*dt*a.vv + q*dt*dt*dt/3
	pv := a.pv + dt*a.vv + q*dt*dt/2
	vv := a.vv + q*dt
	a.pp, a.pv, a.vv = pp, pv, vv
}

// update corrects the filter with a measurement z of variance r.
func (a *axis) update(z, r float64) {
	s := a.pp + r
	if s <= 0 {
		return
	}
	kp, kv := a.pp/s, a.pv/s
	y := z - a.p
	a.p += kp * y
	a.v += kv * y
	pp := (1 - kp) * a.pp
	pv := (1 - kp) * a.pv
	vv := a.vv - kv*a.pv
	a.pp, a.pv, a.vv = pp, pv, vv
}

// motion is the state of one tracked person: feet point (bottom centre of
// the box) and box size, each with its velocity, in frame pixels.
type motion struct {
	x, y, w, h axis
}

// Noise, relative to the person's height in pixels: measurement noise of a
// HOG box is a few percent of its height; people walk at about their own
// height per second and change pace and direction within a second or two.
const (
	measureSigma = 0.05 // box edges, in heights
	accelSigma   = 0.5  // heights per second squared
	initVelSigma = 1.0  // heights per second: unknown at birth
)

func newMotion(r image.Rectangle) motion {
	x, y, w, h := feetOf(r)
	m := motion{}
	for _, a := range []struct {
		ax *axis
		v  float64
	}{{&m.x, x}, {&m.y, y}, {&m.w, w}, {&m.h, h}} {
		s := measureSigma * h
		iv := initVelSigma * h
		*a.ax = axis{p: a.v, pp: s * s, vv: iv * iv}
	}
	// Size changes slowly: start its velocity near zero.
	m.w.vv, m.h.vv = (0.1*h)*(0.1*h), (0.1*h)*(0.1*h)
	return m
}

func (m *motion) predict(dt float64) {
	h := max(m.h.p, 1)
	q := (accelSigma * h) * (accelSigma * h)
	m.x.predict(dt, q)
	m.y.predict(dt, q)
	// A person's size changes with their distance only.
	m.w.predict(dt, q/16)
	m.h.predict(dt, q/16)
}

// coastFor is how long an unseen track keeps its velocity. A walker
// missed for a frame or two goes on walking; one missed for longer is
// more often standing in a group or behind someone than walking on at the
// same pace, and a prediction that walks on leaves them behind (and out
// of the zone: an exit, then a new enter when they are found again).
const coastFor = 400 * time.Millisecond

// dampTau is the time constant, in seconds, with which an unseen track's
// velocity decays after coastFor.
const dampTau = 1.0

// damp slows the predicted motion of an unseen track over dt seconds; its
// size stops changing at once, since only a detection tells how tall a
// person is.
func (m *motion) damp(dt float64) {
	f := math.Exp(-dt / dampTau)
	m.x.v *= f
	m.y.v *= f
	m.w.v, m.h.v = 0, 0
}

func (m *motion) update(r image.Rectangle) {
	x, y, w, h := feetOf(r)
	s := measureSigma * max(m.h.p, 1)
	v := s * s
	m.x.update(x, v)
	m.y.update(y, v)
	m.w.update(w, v)
	m.h.update(h, v)
}

// rect is the box the state describes.
func (m *motion) rect() image.Rectangle {
	w, h := max(m.w.p, 1), max(m.h.p, 1)
	return image.Rect(round(m.x.p-w/2), round(m.y.p-h), round(m.x.p+w/2), round(m.y.p))
}

// feet is the feet point the state describes, in frame pixels.
func (m *motion) feet() (x, y float64) { return m.x.p, m.y.p }

// scale maps the state to a frame of another size (the stream changed
// resolution; the scene did not).
func (m *motion) scale(sx, sy float64) {
	for _, a := range []*axis{&m.x, &m.w} {
		a.p, a.v = a.p*sx, a.v*sx
		a.pp, a.pv, a.vv = a.pp*sx*sx, a.pv*sx*sx, a.vv*sx*sx
	}
	for _, a := range []*axis{&m.y, &m.h} {
		a.p, a.v = a.p*sy, a.v*sy
		a.pp, a.pv, a.vv = a.pp*sy*sy, a.pv*sy*sy, a.vv*sy*sy
	}
}

// feetOf is r's feet point (bottom centre) and size.
func feetOf(r image.Rectangle) (x, y, w, h float64) {
	return float64(r.Min.X+r.Max.X) / 2, float64(r.Max.Y), float64(r.Dx()), float64(r.Dy())
}

func round(v float64) int { return int(math.Round(v)) }
