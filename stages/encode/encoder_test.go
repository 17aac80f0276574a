package encode_test

import (
	"context"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	x264 "github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/mask"
)

func TestSourceRate(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name       string
		prev, next time.Duration
		want       float64
	}{
		{"10 fps", 0, 100 * ms, 10},
		{"25 fps", 40 * ms, 80 * ms, 25},
		{"NTSC", 0, 33366666 * time.Nanosecond, 29.97},
		{"faster than 60 is capped", 0, 5 * ms, 60},
		{"equal timestamps fall back", 100 * ms, 100 * ms, 15},
		{"backwards falls back", 200 * ms, 100 * ms, 15},
		{"a gap over 1 s falls back", 0, 1500 * ms, 15},
		{"1 s is 1 fps", 0, time.Second, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := encode.SourceRate(c.prev, c.next, 15); got != c.want {
				t.Errorf("SourceRate(%v, %v) = %v, want %v", c.prev, c.next, got, c.want)
			}
		})
	}
}

// spsRate reads the frame rate an SPS announces (VUI timing), as players do.
func spsRate(t *testing.T, au media.AccessUnit) float64 {
	t.Helper()
	for _, n := range au.NALUs {
		if h264.NALUType(n[0]&0x1f) != h264.NALUTypeSPS {
			continue
		}
		var sps h264.SPS
		if err := sps.Unmarshal(n); err != nil {
			t.Fatal(err)
		}
		if sps.VUI == nil || sps.VUI.TimingInfo == nil {
			t.Fatal("SPS has no timing info")
		}
		return float64(sps.VUI.TimingInfo.TimeScale) / float64(2*sps.VUI.TimingInfo.NumUnitsInTick)
	}
	t.Fatal("keyframe without SPS")
	return 0
}

// TestEncodedRateFollowsSource: frames 100 ms apart (a 10 fps camera) with
// encode.fps 15 give an SPS that says 10, and timestamps 100 ms apart.
func TestEncodedRateFollowsSource(t *testing.T) {
	for _, c := range []struct {
		name string
		step time.Duration
		want float64
	}{
		{"10 fps camera", 100 * time.Millisecond, 10},
		{"25 fps camera", 40 * time.Millisecond, 25},
	} {
		t.Run(c.name, func(t *testing.T) {
			enc, err := encode.New(encode.Config{Camera: "cam", Encode: x264.Config{FPS: 15, BitrateKbps: 1000}, Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			ms := masker(t)
			in := make(chan *mask.Frame, 8)
			out := make(chan media.AccessUnit, 8)
			for i := 0; i < 6; i++ {
				in <- frame(t, ms, 64, 48, i, time.Duration(i)*c.step)
			}
			close(in)
			if err := enc.Run(context.Background(), in, out); err != nil {
				t.Fatal(err)
			}
			var aus []media.AccessUnit
			for au := range out {
				aus = append(aus, au)
			}
			if len(aus) != 6 {
				t.Fatalf("%d access units for 6 frames", len(aus))
			}
			if got := spsRate(t, aus[0]); got != c.want {
				t.Errorf("SPS announces %v fps, want %v", got, c.want)
			}
			for i := 1; i < len(aus); i++ {
				if d := aus[i].PTS - aus[i-1].PTS; d != c.step {
					t.Errorf("unit %d is %v after the one before, want %v", i, d, c.step)
				}
			}
		})
	}
}

// TestEncoderTakesPlanes: the encoder reads the masked I420 planes; no
// frame is converted to BGR on the way (that cost was a cvtColor per frame
// for every camera with a restream or a recording). Odd sizes lose their
// last row and column, as before.
func TestEncoderTakesPlanes(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{64, 48}, {65, 49}} {
		enc, err := encode.New(encode.Config{Camera: "cam", Encode: x264.Config{FPS: 10, BitrateKbps: 1000}, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		ms := masker(t)
		before := mask.WholeFrameConversions()
		in := make(chan *mask.Frame, 8)
		out := make(chan media.AccessUnit, 8)
		for i := range 4 {
			in <- frame(t, ms, sz.w, sz.h, i, time.Duration(i)*100*time.Millisecond)
		}
		close(in)
		if err := enc.Run(context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
		n := 0
		for au := range out {
			n++
			if au.Width != sz.w&^1 || au.Height != sz.h&^1 {
				t.Errorf("%dx%d: unit of %dx%d", sz.w, sz.h, au.Width, au.Height)
			}
		}
		if n != 4 || enc.Stats().Failed != 0 {
			t.Fatalf("%dx%d: %d units for 4 frames, stats %+v", sz.w, sz.h, n, enc.Stats())
		}
		if d := mask.WholeFrameConversions() - before; d != 0 {
			t.Errorf("%dx%d: %d frames converted to BGR for the encoder, want none", sz.w, sz.h, d)
		}
	}
}
