package encode_test

import (
	"context"
	"testing"
	"time"

	x264 "github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// TestQueuedFramesOfOldZonesAreDropped: frames masked before a privacy
// change and still queued in the encoder's input when it is applied are
// never encoded (counted StaleMask); the first frame of the new zones is
// coded as a keyframe, every unit carries its frame's epoch, and a unit of
// the old epoch offered to the fan-out is dropped for every consumer.
func TestQueuedFramesOfOldZonesAreDropped(t *testing.T) {
	set := zones.NewSet(nil, nil)
	ep := maskepoch.New("none")
	ms, err := mask.New(mask.Config{Zones: set, Epoch: ep, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	in := encode.NewInput(quiet())
	step := 100 * time.Millisecond
	// Two frames of the old zones wait in the output's queue (its size).
	for i := range encode.QueueSize {
		in.Offer(frame(t, ms, 64, 48, i, time.Duration(i)*step))
	}
	booth := zones.Zone{ID: "booth", Kind: zones.Privacy, Polygon: zones.Polygon{{X: 0.5, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 0.5}, {X: 0.5, Y: 0.5}}}
	next := zones.NewSet([]zones.Zone{booth}, nil)
	ep.Advance(zones.Fingerprint(next.Privacy()), func() { set.Replace(next) })

	enc, err := encode.New(encode.Config{Camera: "cam", Encode: x264.Config{FPS: 10, BitrateKbps: 500, GOP: time.Hour}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	units := make(chan media.AccessUnit, 16)
	done := make(chan error, 1)
	go func() { done <- enc.Run(ctx, in.Frames(), units) }()
	seq := encode.QueueSize
	encodeN := func(n int) []media.AccessUnit {
		t.Helper()
		for range n {
			f := frame(t, ms, 64, 48, seq, time.Duration(seq)*step)
			seq++
			for len(in.Frames()) > 0 {
				time.Sleep(time.Millisecond) // the queue drops when full; this test wants every frame
			}
			in.Offer(f)
		}
		var got []media.AccessUnit
		for len(got) < n {
			select {
			case au := <-units:
				got = append(got, au)
			case <-ctx.Done():
				t.Fatalf("%d units, want %d", len(got), n)
			}
		}
		return got
	}
	const fresh = 4
	got := encodeN(fresh)
	if st := enc.Stats(); st.StaleMask != encode.QueueSize || st.Encoded != fresh {
		t.Fatalf("encoder stats %+v: want the %d queued old-zone frames dropped as stale and %d encoded", st, encode.QueueSize, fresh)
	}
	for i, au := range got {
		if au.Mask.Epoch() != 2 || au.Mask.Zones() != zones.Fingerprint(next.Privacy()) {
			t.Errorf("unit %d: epoch %d zones %q, want epoch 2 of the new zones", i, au.Mask.Epoch(), au.Mask.Zones())
		}
	}
	// Another change while the encoder runs (a GOP of an hour): the first
	// picture of the new zones is an IDR, so nothing after it refers to a
	// picture of the old ones; the next is not.
	ep.Advance("none", func() { set.Replace(zones.NewSet(nil, nil)) })
	after := encodeN(2)
	if !after[0].Keyframe || after[1].Keyframe || after[0].Mask.Epoch() != 3 {
		t.Errorf("after the second change: keyframes %v %v, epoch %d; want an IDR first, in epoch 3", after[0].Keyframe, after[1].Keyframe, after[0].Mask.Epoch())
	}
	cancel()
	<-done
	in.Close()

	// The fan-out: a unit of an epoch a reload has since replaced reaches
	// no consumer, and the consumer resumes at the next keyframe.
	fan := encode.NewFanout(quiet())
	out := fan.Add("record", 8)
	fin := make(chan media.AccessUnit)
	fdone := make(chan error, 1)
	go func() { fdone <- fan.Run(context.Background(), fin) }()
	// got's epoch (2) is old now.
	cur := ep.Stamp(nil)
	fin <- got[1]
	fin <- media.AccessUnit{PTS: 1, Mask: cur}                 // a P-frame after the gap: dropped too
	fin <- media.AccessUnit{PTS: 2, Keyframe: true, Mask: cur} // passes
	close(fin)
	if err := <-fdone; err != nil {
		t.Fatal(err)
	}
	var passed []media.AccessUnit
	for au := range out {
		passed = append(passed, au)
	}
	if len(passed) != 1 || passed[0].PTS != 2 {
		t.Fatalf("consumer got %d units (%v), want only the new keyframe", len(passed), passed)
	}
	if fan.Stale("record") != 1 || fan.Dropped("record") != 2 {
		t.Errorf("stale %d dropped %d, want 1 and 2", fan.Stale("record"), fan.Dropped("record"))
	}
}
