package decode_test

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/decode"
)

// TestUnsupportedSizeRefusedOnce: a 16x16 stream between two normal ones.
// Its pictures are dropped (counted), the reason is kept for the camera's
// state and logged once, not per picture; the stream after it decodes.
func TestUnsupportedSizeRefusedOnce(t *testing.T) {
	small := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", "-t", "2", "-vf", "scale=16:16", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10"))
	big := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipSmall...))
	var logs syncbuf.Buffer
	d, err := decode.New(decode.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan media.AccessUnit, len(small)+len(big))
	for _, au := range small {
		in <- au
	}
	out := make(chan decode.Frame, len(small)+len(big))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in, out) }()
	for deadline := time.Now().Add(20 * time.Second); d.Stats().Unsupported < uint64(len(small)) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	st := d.Stats()
	if st.Unsupported != uint64(len(small)) || st.Decoded != 0 || !strings.Contains(st.Refused, "16x16") {
		t.Fatalf("after the 16x16 stream: %+v, want %d unsupported, none decoded, a reason naming 16x16", st, len(small))
	}
	if n := strings.Count(logs.String(), "stream refused"); n != 1 {
		t.Errorf("%d 'stream refused' lines for %d pictures, want 1:\n%s", n, len(small), logs.String())
	}
	for _, au := range big {
		in <- au
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := 0
	for f := range out {
		if got := f.Pic.Size(); got != image.Pt(320, 240) {
			t.Errorf("picture of %v passed on", got)
		}
		f.Close()
		n++
	}
	if st := d.Stats(); n != len(big) || st.Refused != "" {
		t.Errorf("after the 320x240 stream: %d pictures of %d, stats %+v; want all and no refusal", n, len(big), st)
	}
}

func TestSupported(t *testing.T) {
	for _, c := range []struct {
		w, h int
		ok   bool
	}{
		{3, 3, false}, {16, 16, false}, {33, 17, false}, {1280, 1, false}, {1, 720, false},
		{32, 32, true}, {100, 1000, true}, {641, 361, true}, {4097, 2161, true}, {8192, 8192, true}, {8193, 100, false},
	} {
		err := decode.Supported(c.w, c.h)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, decode.ErrUnsupportedSize)) {
			t.Errorf("%dx%d: %v, want ok=%v", c.w, c.h, err, c.ok)
		}
	}
}
