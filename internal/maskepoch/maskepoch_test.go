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
