package snapshot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// TestRetainedSnapshotIsCleared: the one left by an earlier run goes at
// start, a published one after Retain, and a paused snapshotter clears its
// picture at once and makes no more until resumed.
func TestRetainedSnapshotIsCleared(t *testing.T) {
	f, raw := maskedFrame(t)
	defer f.Close()
	defer raw.Close()
	sink := &edgetest.Sink{}
	var mu sync.Mutex
	var reasons []string
	s, err := snapshot.New(snapshot.Config{Camera: "lobby", TopicPrefix: "edge", Sink: sink, Retain: 300 * time.Millisecond,
		Frames: holding(t, f),
		OnClear: func(_ time.Duration, reason string) {
			mu.Lock()
			reasons = append(reasons, reason)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("the clearing at start", func() bool { return len(edgetest.Of[events.ClearSnapshot](sink.Messages())) == 1 })
	s.Offer(events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby"})
	wait("a snapshot", func() bool { return len(edgetest.Of[events.Snapshot](sink.Messages())) == 1 })
	published := time.Now()
	wait("the clearing after retain", func() bool { return len(edgetest.Of[events.ClearSnapshot](sink.Messages())) == 2 })
	if d := time.Since(published); d < 250*time.Millisecond {
		t.Fatalf("cleared after %v, before the 300 ms retention", d)
	}

	s.Offer(events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby"})
	wait("a second snapshot", func() bool { return len(edgetest.Of[events.Snapshot](sink.Messages())) == 2 })
	s.Pause()
	if len(edgetest.Of[events.ClearSnapshot](sink.Messages())) != 3 {
		t.Fatal("pausing did not clear the retained snapshot")
	}
	s.Offer(events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby"})
	time.Sleep(200 * time.Millisecond)
	if n := len(edgetest.Of[events.Snapshot](sink.Messages())); n != 2 {
		t.Fatalf("%d snapshots, a paused snapshotter made one", n)
	}
	s.Resume()
	s.Offer(events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby"})
	wait("a snapshot after resume", func() bool { return len(edgetest.Of[events.Snapshot](sink.Messages())) == 3 })
	mu.Lock()
	defer mu.Unlock()
	want := []string{snapshot.ClearStart, snapshot.ClearRetention, snapshot.ClearPaused}
	if len(reasons) < 3 || reasons[0] != want[0] || reasons[1] != want[1] || reasons[2] != want[2] {
		t.Fatalf("clear reasons %v, want %v", reasons, want)
	}
}
