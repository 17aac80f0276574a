package encode_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/encode"
)

// TestSlowConsumerBlocksNobody: one consumer never reads; the other gets
// every unit, the encoder side is never held up, and the stuck one's losses
// are counted, then it resumes at a keyframe, never on a P-frame.
func TestSlowConsumerBlocksNobody(t *testing.T) {
	fan := encode.NewFanout(quiet())
	fast := fan.Add("fast", 4)
	slow := fan.Add("slow", 2)
	in := make(chan media.AccessUnit)
	done := make(chan error, 1)
	go func() { done <- fan.Run(context.Background(), in) }()

	const n = 50
	got := make(chan int, 1)
	ack := make(chan struct{})
	go func() {
		c := 0
		for range fast {
			c++
			ack <- struct{}{}
		}
		got <- c
	}()
	send := func(au media.AccessUnit) {
		t.Helper()
		select {
		case in <- au:
		case <-time.After(5 * time.Second):
			t.Fatalf("unit %v: the fan-out blocked on the slow consumer", au.PTS)
		}
		// The fast consumer keeps up: it has each unit before the next.
		select {
		case <-ack:
		case <-time.After(5 * time.Second):
			t.Fatalf("unit %v never reached the fast consumer", au.PTS)
		}
	}
	for i := 0; i < n; i++ {
		send(media.AccessUnit{PTS: time.Duration(i), Keyframe: i%10 == 0})
	}
	// The slow one wakes up: it finds its two oldest units, then must see
	// nothing but what follows a keyframe.
	for range 2 {
		<-slow
	}
	send(media.AccessUnit{PTS: n, Keyframe: false})
	send(media.AccessUnit{PTS: n + 1, Keyframe: true})
	send(media.AccessUnit{PTS: n + 2, Keyframe: false})
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := <-got; c != n+3 {
		t.Errorf("fast consumer got %d units, want %d", c, n+3)
	}
	var after []media.AccessUnit
	for au := range slow {
		after = append(after, au)
	}
	if len(after) != 2 || !after[0].Keyframe || after[0].PTS != n+1 {
		t.Errorf("slow consumer resumed with %+v, want the keyframe %d and what follows", after, n+1)
	}
	if d, want := fan.Dropped("slow"), uint64(n-2+1); d != want {
		t.Errorf("slow consumer dropped %d, want %d", d, want)
	}
	if d := fan.Dropped("fast"); d != 0 {
		t.Errorf("fast consumer dropped %d", d)
	}
}

// TestInputDropsWhenFull: Offer never blocks; a full queue closes the frame
// and counts it, and Close frees what is queued.
func TestInputDropsWhenFull(t *testing.T) {
	ms := masker(t)
	q := encode.NewInput(quiet())
	for i := 0; i < encode.QueueSize+3; i++ {
		q.Offer(frame(t, ms, 16, 16, i, 0))
	}
	if d := q.Dropped(); d != 3 {
		t.Errorf("dropped %d, want 3", d)
	}
	if n := len(q.Frames()); n != encode.QueueSize {
		t.Errorf("%d queued, want %d", n, encode.QueueSize)
	}
	q.Close()
	q.Offer(frame(t, ms, 16, 16, 99, 0)) // closed at once
	if n := len(q.Frames()); n != 0 {
		t.Errorf("%d frames left after Close", n)
	}
}
