package snapshot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// TestAllowedGatesEachPicture: with the camera sign's gate closed (its sign
// just expired, the snapshotter not yet paused) no snapshot is taken or
// published; events still pass on. Opened again, snapshots come back.
func TestAllowedGatesEachPicture(t *testing.T) {
	f, raw := maskedFrame(t)
	defer f.Close()
	defer raw.Close()
	var open atomic.Bool
	sink := &edgetest.Sink{}
	s, err := snapshot.New(snapshot.Config{Camera: "lobby", TopicPrefix: "edge", Sink: sink,
		Frames: holding(t, f), Allowed: open.Load})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	enter := func() string {
		ev := events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby", Box: [4]float64{0.4, 0.3, 0.2, 0.4}}
		s.Offer(ev)
		return ev.ID
	}
	id := enter()
	if s.Request() {
		t.Fatal("a snapshot was queued with the gate closed")
	}
	time.Sleep(200 * time.Millisecond) // what a queued picture would need to come out
	if n := len(edgetest.Of[events.Snapshot](sink.Messages())); n != 0 {
		t.Fatalf("%d snapshots published with the gate closed", n)
	}
	passed := false
	for _, e := range edgetest.Of[events.Event](sink.Messages()) {
		passed = passed || e.ID == id
	}
	if !passed {
		t.Fatal("the enter event was not passed on while snapshots were gated")
	}
	open.Store(true)
	enter()
	deadline := time.Now().Add(10 * time.Second)
	for len(edgetest.Of[events.Snapshot](sink.Messages())) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(edgetest.Of[events.Snapshot](sink.Messages())); n != 1 {
		t.Fatalf("%d snapshots published with the gate open, want 1", n)
	}
}
