package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/flow"
)

func TestRecv(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan int, 2)
	in <- 7
	if v, ok := flow.Recv(ctx, in); !ok || v != 7 {
		t.Fatalf("Recv = %d, %v; want 7, true", v, ok)
	}
	close(in)
	if _, ok := flow.Recv(ctx, in); ok {
		t.Fatal("Recv on a closed input reported ok")
	}

	open := make(chan int)
	cancel()
	done := make(chan bool)
	go func() { _, ok := flow.Recv(ctx, open); done <- ok }()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Recv after cancel reported ok")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv did not return after its context was cancelled")
	}
}

func TestSend(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan int, 1)
	if !flow.Send(ctx, out, 3) {
		t.Fatal("Send into a free buffer reported false")
	}
	if v := <-out; v != 3 {
		t.Fatalf("received %d, want 3", v)
	}
	full := make(chan int) // nobody receives
	cancel()
	if flow.Send(ctx, full, 4) {
		t.Fatal("Send with nobody receiving and a cancelled context reported true")
	}
}

// TestEvery: f runs on the interval, and Every returns once ctx is done.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		flow.Every(ctx, 5*time.Millisecond, func() { calls <- struct{}{} })
		close(done)
	}()
	for range 3 {
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatal("f was not called on the interval")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return after its context was cancelled")
	}
}
