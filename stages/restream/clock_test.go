package restream_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	x264 "github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/restream"
)

// units encodes a grey 64x64 picture at each PTS with a fresh encoder, as
// a reload that rebuilds a camera's encoder stage does.
func units(t *testing.T, pts []time.Duration) []media.AccessUnit {
	t.Helper()
	enc, err := x264.New(x264.Config{Width: 64, Height: 64, FPS: 10, BitrateKbps: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	bgr := make([]byte, 64*64*3)
	for i := range bgr {
		bgr[i] = 128
	}
	var out []media.AccessUnit
	for _, at := range pts {
		pkts, err := enc.Encode(bgr, 64*3, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			var nalus h264.AnnexB
			if err := nalus.Unmarshal(p.Data); err != nil {
				t.Fatal(err)
			}
			out = append(out, media.AccessUnit{Codec: media.H264, NALUs: nalus, PTS: p.PTS, Keyframe: p.Key, Width: 64, Height: 64})
		}
	}
	if len(out) != len(pts) || !out[0].Keyframe {
		t.Fatalf("encoder gave %d units for %d pictures (first key %v)", len(out), len(pts), len(out) > 0 && out[0].Keyframe)
	}
	return out
}

// params is the SPS and PPS of a keyframe.
func params(au media.AccessUnit) string {
	var b strings.Builder
	for _, n := range au.NALUs {
		if typ := h264.NALUType(n[0] & 0x1f); typ == h264.NALUTypeSPS || typ == h264.NALUTypePPS {
			b.Write(n)
		}
	}
	return b.String()
}

// TestRTPClockSurvivesEncoderRebuild: a viewer plays a path fed 60 s of
// units, then units of a rebuilt encoder whose PTS starts at 0 again with
// the same SPS and PPS (no new stream, so the viewer stays). The RTP
// timestamps the viewer gets must never go back; they used to jump back
// by the 60 s.
func TestRTPClockSurvivesEncoderRebuild(t *testing.T) {
	var first, second []time.Duration
	for s := 0; s <= 60; s += 3 {
		first = append(first, time.Duration(s)*time.Second)
	}
	for i := range 5 {
		second = append(second, time.Duration(i)*100*time.Millisecond)
	}
	a, b := units(t, first), units(t, second)
	if params(a[0]) != params(b[0]) {
		t.Fatal("the rebuilt encoder's SPS/PPS differ: the case under test needs them equal")
	}

	srv, err := restream.NewServer(restream.ServerConfig{Addr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	path := srv.Path("lobby")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := make(chan media.AccessUnit, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() { defer wg.Done(); _ = path.Run(ctx, in) }()
	in <- a[0] // the keyframe makes the stream, so that a viewer can join

	u, err := base.ParseURL(srv.URL("lobby"))
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.TransportTCP
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
	if err := c.Start2(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ok bool
	for range 100 { // the first unit may not be written yet: 404 until it is
		d, _, err := c.Describe(u)
		if err == nil {
			if err := c.SetupAll(d.BaseURL, d.Medias); err != nil {
				t.Fatal(err)
			}
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Fatal("path never served its stream")
	}
	var mu sync.Mutex
	var stamps []uint32
	c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
		if pkt.Marker { // one per access unit
			mu.Lock()
			stamps = append(stamps, pkt.Timestamp)
			mu.Unlock()
		}
	})
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	want := len(a) - 1 + len(b)
	for _, au := range append(a[1:], b...) {
		in <- au
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(stamps)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("viewer got %d of %d units", n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(stamps); i++ {
		// Differences as int32: the base is random and may wrap.
		if d := int32(stamps[i] - stamps[i-1]); d <= 0 {
			t.Errorf("RTP timestamp of unit %d went back by %d ticks (%.1f s)", i, -d, float64(-d)/90000)
		}
	}
}
