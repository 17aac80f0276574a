package edgetest_test

import (
	"sync"
	"testing"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/edgetest"
)

func TestSink(t *testing.T) {
	var s edgetest.Sink
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if !s.Offer(events.Occupancy{Camera: "c", Count: i}) {
				t.Error("Offer refused a message")
			}
		})
	}
	wg.Wait()
	s.Offer(events.State{Camera: "c"})
	if n := len(edgetest.Of[events.Occupancy](s.Messages())); n != 10 {
		t.Fatalf("%d occupancies recorded, want 10", n)
	}
	if st := edgetest.Of[events.State](s.Messages()); len(st) != 1 || st[0].Camera != "c" {
		t.Fatalf("states %+v", st)
	}
	if n := len(s.Take()); n != 11 {
		t.Fatalf("Take returned %d messages, want 11", n)
	}
	if n := len(s.Take()); n != 0 {
		t.Fatalf("second Take returned %d messages, want 0", n)
	}
}

func TestAccessUnits(t *testing.T) {
	aus := edgetest.AccessUnits(t, "../../testvideos/vtest.mp4")
	if len(aus) == 0 || !aus[0].Keyframe {
		t.Fatalf("%d access units, first key frame %v", len(aus), len(aus) > 0 && aus[0].Keyframe)
	}
}
