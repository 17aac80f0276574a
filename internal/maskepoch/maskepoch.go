// Package maskepoch numbers the versions of a camera's privacy zones, so
// that a picture masked under zones a reload has since replaced is never
// published: every masked frame, and every access unit encoded from one,
// carries the Stamp of the zones it was painted with, and each output asks
// the Stamp before it writes.
//
// A reload that changes the privacy zones swaps them inside Advance, under
// the clock's write lock; an output writes inside Hold, under its read
// lock. So once Advance has returned, no output is still writing a picture
// of the old epoch, and none will start: Hold refuses every Stamp older
// than the current epoch.
//
// What an output has already handed on before the swap (RTP packets queued
// to a viewer) is out of Hold's reach: such an output registers
// OnZonesChange, which Advance calls before it returns, to discard it.
package maskepoch

import (
	"sync"
	"sync/atomic"
)

// Clock is one camera's privacy-zone epoch. The zero value is not usable;
// use New. It is safe for concurrent use.
type Clock struct {
	mu    sync.RWMutex
	n     atomic.Uint64 // written under mu held for writing
	zones string        // under mu: the fingerprint of the current zones

	// hooks are called by Advance when the zones change. Their own lock,
	// not mu: an output registers while it holds a Stamp (mu for reading).
	hooksMu sync.Mutex
	hooks   map[*hook]struct{}
}

// hook is one registration of OnZonesChange; a pointer, so that two
// registrations of the same function are removed one at a time.
type hook struct{ f func() }

// New returns a clock at epoch 1 whose zones have the fingerprint zones
// (what a recording says it was masked with; see zones.Fingerprint).
func New(zones string) *Clock {
	c := &Clock{zones: zones}
	c.n.Store(1)
	return c
}

// Current is the epoch now in force.
func (c *Clock) Current() uint64 { return c.n.Load() }

// Stamp runs read (which looks up the zones to paint) under the read lock
// and returns the stamp of the epoch read saw: the zones swapped by Advance
// and the epoch number always match.
func (c *Clock) Stamp(read func()) Stamp {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if read != nil {
		read()
	}
	return Stamp{c: c, n: c.n.Load(), zones: c.zones}
}

// Advance starts a new epoch whose zones have the fingerprint zones: it
// waits for every Hold in progress to be released, runs apply (the swap of
// the zones; nil for none) and makes every earlier Stamp stale. When zones
// differ from the current fingerprint it then calls the OnZonesChange
// hooks, still under the write lock. It returns the new epoch.
func (c *Clock) Advance(zones string, apply func()) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if apply != nil {
		apply()
	}
	changed := zones != c.zones
	c.zones = zones
	n := c.n.Add(1)
	if changed {
		c.hooksMu.Lock()
		hooks := make([]func(), 0, len(c.hooks))
		for h := range c.hooks {
			hooks = append(hooks, h.f)
		}
		c.hooksMu.Unlock()
		for _, f := range hooks {
			f()
		}
	}
	return n
}

// OnZonesChange registers f, to be called by every Advance that changes
// the zones' fingerprint (a privacy change; not the end of a run, which
// keeps them), after the swap and before Advance returns, under the write
// lock: no Hold or Stamp runs meanwhile. It is for an output that hands
// pictures on before they are delivered (a restream's RTP queues) to discard
// what it handed on under the old zones. f must not call the clock, nor
// wait on anything that waits for a Stamp or a Hold (the mask stage, an
// output's write); it delays the reload and the camera's mask stage, so it
// must return soon. May be called while holding a Stamp. remove unregisters
// f; calling it again does nothing.
func (c *Clock) OnZonesChange(f func()) (remove func()) {
	h := &hook{f: f}
	c.hooksMu.Lock()
	if c.hooks == nil {
		c.hooks = map[*hook]struct{}{}
	}
	c.hooks[h] = struct{}{}
	c.hooksMu.Unlock()
	return func() {
		c.hooksMu.Lock()
		delete(c.hooks, h)
		c.hooksMu.Unlock()
	}
}

// Zones is the fingerprint of the zones now in force.
func (c *Clock) Zones() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.zones
}

// Stamp says which epoch of which camera's clock a picture was masked in.
// The zero Stamp belongs to no clock (a unit that did not come from a mask
// stage, as in tests of a single output): it is never stale.
type Stamp struct {
	c     *Clock
	n     uint64
	zones string
}

// Clock is the clock the stamp was made by; nil for the zero Stamp.
func (s Stamp) Clock() *Clock { return s.c }

// Epoch is the stamp's epoch number; 0 for the zero Stamp.
func (s Stamp) Epoch() uint64 { return s.n }

// Zones is the fingerprint of the privacy zones the picture was masked with.
func (s Stamp) Zones() string { return s.zones }

// Stale reports whether the privacy zones have changed since the picture
// was masked. A check only: an output about to publish uses Hold.
func (s Stamp) Stale() bool { return s.c != nil && s.c.n.Load() != s.n }

// Same reports whether s and o are the same epoch of the same clock.
func (s Stamp) Same(o Stamp) bool { return s.c == o.c && s.n == o.n }

// Hold reports whether the stamp is current and, if so, keeps it current
// until release is called: a reload's Advance waits for it. Write the
// picture between the two, and do not wait on anything that may wait for a
// reload. On false there is nothing to release.
func (s Stamp) Hold() (release func(), ok bool) {
	if s.c == nil {
		return func() {}, true
	}
	s.c.mu.RLock()
	if s.c.n.Load() != s.n {
		s.c.mu.RUnlock()
		return nil, false
	}
	return s.c.mu.RUnlock, true
}
