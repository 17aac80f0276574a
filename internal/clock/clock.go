// Package clock is the one clock of a camera's pipeline: the time signage is
// judged at, keepalives are measured with and events are stamped by.
//
// Live runs use the wall clock. Offline runs (`edge verify`) use the clip's
// start time plus each frame's timestamp, so that a verify run gives the
// same answer however fast it goes. One Clock is built per camera and given
// to every stage that needs the time, so no two stages can disagree.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock is a camera's clock, live or offline. Its methods are safe for
// concurrent use.
type Clock struct {
	wall  func() time.Time // live: the wall clock; nil offline
	start time.Time        // offline: the wall time of stream time 0
	last  atomic.Int64     // offline: the newest stream time seen, in ns
}

// Live is the wall clock now (time.Now when nil).
func Live(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{wall: now}
}

// Offline is the clock of a recorded stream whose first frame was taken at
// start: a frame's time is start plus its timestamp, and the present is the
// newest frame's time (Advance).
func Offline(start time.Time) *Clock { return &Clock{start: start} }

// IsOffline reports whether c runs on stream time.
func (c *Clock) IsOffline() bool { return c.wall == nil }

// At is the time of a frame with stream timestamp pts: now when live, its
// place in the stream when offline.
func (c *Clock) At(pts time.Duration) time.Time {
	if c.wall != nil {
		return c.wall()
	}
	return c.start.Add(pts)
}

// Now is the camera's present: the wall clock when live, the newest frame's
// time when offline.
func (c *Clock) Now() time.Time {
	if c.wall != nil {
		return c.wall()
	}
	return c.start.Add(time.Duration(c.last.Load()))
}

// Advance tells an offline clock that a frame with timestamp pts has been
// reached; a live clock ignores it.
func (c *Clock) Advance(pts time.Duration) {
	if c.wall == nil {
		c.last.Store(int64(pts))
	}
}
