package snapshot_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// TestStaleFramesAreNeverPublished: a snapshot queued from a frame masked
// before a privacy change, and made after it, is dropped (StaleMask), and
// the snapshot output gives no frame of the old zones: the console and the
// next snapshot wait for a frame of the new ones.
func TestStaleFramesAreNeverPublished(t *testing.T) {
	ep := maskepoch.New("1 zone")
	f, raw := maskedFrameIn(t, ep)
	defer raw.Close()
	sink := &edgetest.Sink{}
	latest := snapshot.NewLatest()
	defer latest.Reset()
	latest.Offer(f)
	s, err := snapshot.New(snapshot.Config{Camera: "lobby", TopicPrefix: "edge", Sink: sink, Frames: latest})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Request() {
		t.Fatal("no snapshot queued")
	}
	ep.Advance("2 zones", nil) // the reload, while the picture waits for the encoder
	if g := latest.Frame(); g != nil {
		g.Close()
		t.Fatal("the snapshot output gave a frame of the replaced zones")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); s.Stats().StaleMask == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.StaleMask != 1 || st.Published != 0 {
		t.Fatalf("stats %+v: want the queued snapshot dropped as stale", st)
	}
	if n := len(edgetest.Of[events.Snapshot](sink.Messages())); n != 0 {
		t.Fatalf("%d snapshots of the replaced zones published", n)
	}
	// A frame of the new zones is served again.
	g, raw2 := maskedFrameIn(t, ep)
	defer raw2.Close()
	latest.Offer(g)
	if h := latest.Frame(); h == nil {
		t.Fatal("no frame of the new zones")
	} else {
		h.Close()
	}
}
