package maskepoch_test

import (
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/maskepoch"
)

// TestAdvanceWaitsForHolds: a stamp held while an output writes keeps the
// reload's Advance waiting; once Advance has returned, the old stamp is
// stale and cannot be held, and the new one can.
func TestAdvanceWaitsForHolds(t *testing.T) {
	c := maskepoch.New("none")
	old := c.Stamp(nil)
	if old.Stale() || old.Epoch() != 1 || old.Zones() != "none" {
		t.Fatalf("fresh stamp: epoch %d zones %q stale %v", old.Epoch(), old.Zones(), old.Stale())
	}
	release, ok := old.Hold()
	if !ok {
		t.Fatal("a current stamp cannot be held")
	}
	advanced := make(chan uint64)
	swapped := false
	go func() { advanced <- c.Advance("1 zone", func() { swapped = true }) }()
	select {
	case <-advanced:
		t.Fatal("Advance returned while a write of the old epoch was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	select {
	case n := <-advanced:
		if n != 2 || !swapped {
			t.Fatalf("Advance = %d (swapped %v), want 2 and the swap run", n, swapped)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Advance did not return after the hold was released")
	}
	if !old.Stale() {
		t.Fatal("a stamp of the old epoch is not stale")
	}
	if _, ok := old.Hold(); ok {
		t.Fatal("a stale stamp was held")
	}
	cur := c.Stamp(nil)
	if cur.Same(old) || cur.Zones() != "1 zone" || cur.Stale() {
		t.Fatalf("new stamp: %+v", cur)
	}
	var zero maskepoch.Stamp
	if r, ok := zero.Hold(); !ok || zero.Stale() {
		t.Fatal("the zero stamp (no clock) must pass")
	} else {
		r()
	}
}

// TestOnZonesChange: a hook registered while a stamp is held (as an output
// registers while it writes) is called by an Advance that changes the
// zones, after the swap and under the write lock (a Stamp taken meanwhile
// waits for it), and before Advance returns; an Advance that keeps the
// zones (the end of a run) does not call it, nor does one after remove.
func TestOnZonesChange(t *testing.T) {
	c := maskepoch.New("none")
	release, ok := c.Stamp(nil).Hold()
	if !ok {
		t.Fatal("a current stamp cannot be held")
	}
	var calls []uint64
	stamped := make(chan maskepoch.Stamp, 1)
	remove := c.OnZonesChange(func() {
		calls = append(calls, c.Current())
		go func() { stamped <- c.Stamp(nil) }()
		select {
		case s := <-stamped:
			t.Errorf("a stamp (epoch %d) was taken while the hook ran: it is not under the write lock", s.Epoch())
		case <-time.After(50 * time.Millisecond):
		}
	})
	release()

	if n := c.Advance("none", nil); n != 2 || len(calls) != 0 {
		t.Fatalf("Advance with the same zones = %d, hook called %d times; want 2 and none", n, len(calls))
	}
	if n := c.Advance("1 zone", nil); n != 3 || len(calls) != 1 || calls[0] != 3 {
		t.Fatalf("Advance to new zones = %d, hook saw epochs %v; want 3 and [3]: called once, after the swap", n, calls)
	}
	select {
	case s := <-stamped:
		if s.Epoch() != 3 || s.Zones() != "1 zone" {
			t.Fatalf("the stamp taken during the hook: epoch %d zones %q, want 3 and the new zones", s.Epoch(), s.Zones())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stamp asked for during the hook was never given")
	}
	remove()
	remove()
	if c.Advance("2 zones", nil); len(calls) != 1 {
		t.Fatalf("hook called %d times after remove", len(calls))
	}
	if c.Stamp(nil).Clock() != c || (maskepoch.Stamp{}).Clock() != nil {
		t.Fatal("Stamp.Clock does not name the stamp's clock")
	}
}
