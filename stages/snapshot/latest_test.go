package snapshot_test

import (
	"testing"

	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// holding returns a snapshot output holding a reference to f, emptied when
// the test ends.
func holding(t *testing.T, f *mask.Frame) *snapshot.Latest {
	t.Helper()
	l := snapshot.NewLatest()
	l.Offer(f.Ref())
	t.Cleanup(l.Reset)
	return l
}

// TestLatestKeepsOnlyTheNewest: each frame offered replaces (and frees) the
// one before; Frame hands out references of the newest; Reset empties it.
// The Mat profile of TestMain fails the run if a frame is kept or closed twice.
func TestLatestKeepsOnlyTheNewest(t *testing.T) {
	a, rawA := maskedFrame(t)
	defer rawA.Close()
	b, rawB := maskedFrame(t)
	defer rawB.Close()
	l := snapshot.NewLatest()
	if f := l.Frame(); f != nil {
		t.Fatal("an empty output gave a frame")
	}
	l.Offer(a) // owns a from here
	l.Offer(b) // closes a
	got := l.Frame()
	if got == nil {
		t.Fatal("Frame() = nil after two offers")
	}
	if got != b {
		t.Fatal("Frame() is not the newest frame")
	}
	got.Close()
	l.Reset()
	if f := l.Frame(); f != nil {
		f.Close()
		t.Fatal("Reset left a frame")
	}
}
