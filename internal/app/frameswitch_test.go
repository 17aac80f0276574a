package app

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// keep is an output that keeps what it is offered.
type keep struct{ fs []*mask.Frame }

func (k *keep) Offer(f *mask.Frame) { k.fs = append(k.fs, f) }

// TestFrameSwitchCountsDrops: frames offered while no output is in force
// (an encoder being rebuilt by a reload) are closed and counted, not lost
// silently; with an output in force none is counted.
func TestFrameSwitchCountsDrops(t *testing.T) {
	ms, err := mask.New(mask.Config{Zones: zones.NewSet(nil, nil), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	frame := func() *mask.Frame {
		pic, err := yuv.New(32, 32)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ms.Apply(decode.Frame{Pic: pic})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	var s frameSwitch
	k := &keep{}
	s.set(k)
	s.Offer(frame())
	s.set(nil) // the rebuild
	s.Offer(frame())
	s.Offer(frame())
	s.set(k)
	s.Offer(frame())
	if s.Dropped() != 2 || len(k.fs) != 2 {
		t.Fatalf("dropped %d, passed %d: want 2 and 2", s.Dropped(), len(k.fs))
	}
	for _, f := range k.fs {
		f.Close()
	}
}
