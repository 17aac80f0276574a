package encode_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	x264 "github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// masker returns a mask stage without zones, to make *mask.Frame values.
func masker(t testing.TB) *mask.Stage {
	t.Helper()
	ms, err := mask.New(mask.Config{Zones: zones.NewSet(nil, nil), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func frame(t testing.TB, ms *mask.Stage, w, h, i int, pts time.Duration) *mask.Frame {
	t.Helper()
	pic, err := yuv.New(w, h)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ms.Apply(decode.Frame{Pic: pic, Seq: uint64(i), PTS: pts})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOneWarningForAStreamOfBadFrames: a 1-pixel-wide stream cannot be
// coded (4:2:0 needs even sizes). Before rate limiting, each of its frames
// logged "restream encode failed"; now 100 frames give one line.
func TestOneWarningForAStreamOfBadFrames(t *testing.T) {
	var logs syncbuf.Buffer
	enc, err := encode.New(encode.Config{Camera: "cam", Encode: x264.Config{FPS: 15, BitrateKbps: 2000},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ms := masker(t)
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan *mask.Frame)
	out := make(chan media.AccessUnit, 1)
	done := make(chan error, 1)
	go func() { done <- enc.Run(ctx, in, out) }()
	const n = 100
	for i := 0; i < n; i++ {
		in <- frame(t, ms, 1, 64, i, time.Duration(i)*40*time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); enc.Stats().Failed < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, open := <-out; open {
		t.Error("Run returned without closing its output")
	}
	if st := enc.Stats(); st.Failed != n || st.Encoded != 0 {
		t.Fatalf("stats %+v, want all %d frames failed", st, n)
	}
	if c := strings.Count(logs.String(), "restream encode failed"); c != 1 {
		t.Errorf("%d warnings for %d bad frames, want 1:\n%s", c, enc.Stats().Failed, logs.String())
	}
}
