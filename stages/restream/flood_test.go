package restream_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/zones"
)

// TestOneWarningForAStreamOfBadFrames: a 1-pixel-wide stream cannot be
// coded (4:2:0 needs even sizes). Before rate limiting, each of its frames
// logged "restream encode failed"; now 100 frames give one line.
func TestOneWarningForAStreamOfBadFrames(t *testing.T) {
	var logs syncbuf.Buffer
	enc, err := restream.NewEncoder(restream.EncoderConfig{Camera: "cam", Consumers: []restream.Consumer{nullConsumer{}}, Encode: encode.Config{FPS: 15, BitrateKbps: 2000},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := mask.New(mask.Config{Zones: zones.NewSet(nil, nil), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- enc.Run(ctx) }()
	const n = 100
	for i := 0; i < n; i++ {
		f, err := ms.Apply(decode.Frame{Mat: gocv.NewMatWithSize(64, 1, gocv.MatTypeCV8UC3), Seq: uint64(i), PTS: time.Duration(i) * 40 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for enc.Stats().Failed+enc.Stats().Dropped < uint64(i) {
			time.Sleep(time.Millisecond)
		}
		enc.Offer(f)
	}
	for deadline := time.Now().Add(10 * time.Second); enc.Stats().Failed+enc.Stats().Dropped < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := enc.Stats(); st.Failed < n/2 {
		t.Fatalf("stats %+v, want most of %d frames failed", st, n)
	}
	if c := strings.Count(logs.String(), "restream encode failed"); c != 1 {
		t.Errorf("%d warnings for %d bad frames, want 1:\n%s", c, enc.Stats().Failed, logs.String())
	}
}
