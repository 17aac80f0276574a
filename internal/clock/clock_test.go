package clock_test

import (
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/clock"
)

func TestLive(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	c := clock.Live(func() time.Time { return now })
	if c.IsOffline() {
		t.Fatal("a live clock says it is offline")
	}
	c.Advance(time.Hour) // ignored
	if got := c.At(10 * time.Minute); !got.Equal(t0) {
		t.Errorf("At = %v, want the wall clock %v whatever the frame's timestamp", got, t0)
	}
	now = now.Add(time.Second)
	if got := c.Now(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Now = %v, want %v", got, t0.Add(time.Second))
	}
	if d := time.Since(clock.Live(nil).Now()); d < 0 || d > time.Minute {
		t.Errorf("Live(nil) is %v off time.Now", d)
	}
}

func TestOffline(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := clock.Offline(start)
	if !c.IsOffline() {
		t.Fatal("an offline clock says it is live")
	}
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("Now before any frame = %v, want the start %v", got, start)
	}
	if got := c.At(1500 * time.Millisecond); !got.Equal(start.Add(1500 * time.Millisecond)) {
		t.Errorf("At(1.5 s) = %v", got)
	}
	c.Advance(42 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(42 * time.Second)) {
		t.Errorf("Now after frame at 42 s = %v, want %v", got, start.Add(42*time.Second))
	}
}
