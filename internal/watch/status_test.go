package watch_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/internal/watch"
)

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWatchSaysWhenTheBrokerIsMissingOrLost: edge watch tells at once that
// nothing listens at the address, and when a live broker goes away and
// comes back.
func TestWatchSaysWhenTheBrokerIsMissingOrLost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	var out, status syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watch.Watch(ctx, "tcp://"+closed, "", "", "edge", &out, &status) }()
	waitFor(t, "no word that the broker is unreachable:\n"+status.String(), 2*time.Second, func() bool {
		return strings.Contains(status.String(), "not reachable")
	})
	cancel()
	<-done

	m := mosquittotest.Start(t)
	var out2, status2 syncbuf.Buffer
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- watch.Watch(ctx, m.URL(), "", "", "edge", &out2, &status2) }()
	waitFor(t, "no word of the connection:\n"+status2.String(), 5*time.Second, func() bool {
		return strings.Contains(status2.String(), "connected to")
	})
	m.Stop()
	waitFor(t, "no word that the connection was lost:\n"+status2.String(), 5*time.Second, func() bool {
		return strings.Contains(status2.String(), "lost")
	})
	m.Restart()
	waitFor(t, "no word of the reconnection:\n"+status2.String(), 15*time.Second, func() bool {
		return strings.Count(status2.String(), "connected to") >= 2
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
