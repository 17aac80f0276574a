package decode_test

import (
	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"math/rand"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/decode"
)

// Clips from the sample video: ultrafast has no B-frames, so every access
// unit yields exactly one picture; veryfast has B-frames and reorders.
var (
	clipIPP     = []string{"-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10"}
	clipBFrames = []string{"-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-g", "10"}
	clipSmall   = []string{"-t", "2", "-vf", "scale=320:240", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10"}
	clipH265    = []string{"-t", "2", "-c:v", "libx265", "-preset", "ultrafast", "-g", "10", "-x265-params", "log-level=error"}
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// picture is what the tests keep of a Frame once its picture is closed.
type picture struct {
	seq  uint64
	pts  time.Duration
	size image.Point
	mean float64
	recv time.Time
}

// fed is a new decode stage and its input channel holding aus (not closed).
func fed(t *testing.T, aus []media.AccessUnit) (*decode.Decoder, chan media.AccessUnit) {
	t.Helper()
	d, err := decode.New(decode.Config{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan media.AccessUnit, len(aus))
	for _, au := range aus {
		in <- au
	}
	return d, in
}

// run pushes aus through a decode stage and returns what came out.
func run(t *testing.T, aus []media.AccessUnit) ([]picture, decode.Stats) {
	t.Helper()
	d, in := fed(t, aus)
	close(in)
	out := make(chan decode.Frame, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in, out) }()
	var pics []picture
	for f := range out {
		bgr, err := f.Pic.BGR()
		if err != nil {
			t.Fatal(err)
		}
		mean := bgr.Mean()
		bgr.Close()
		pics = append(pics, picture{
			seq:  f.Seq,
			pts:  f.PTS,
			size: f.Pic.Size(),
			mean: (mean.Val1 + mean.Val2 + mean.Val3) / 3,
			recv: f.Received,
		})
		f.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	return pics, d.Stats()
}

func TestRunClips(t *testing.T) {
	tests := []struct {
		name string
		args []string
		h265 bool
	}{
		{"H.264 without B-frames", clipIPP, false},
		{"H.264 with B-frames", clipBFrames, false},
		{"H.265", clipH265, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.h265 && !testclip.HasEncoder("libx265") {
				t.Skip("ffmpeg has no libx265 encoder; H.265 not tested")
			}
			path := testclip.Make(t, ".mp4", tt.args...)
			pics, st := run(t, edgetest.AccessUnits(t, path))
			want := testclip.CountFrames(t, path)
			if len(pics) != want {
				t.Fatalf("decoded %d pictures, ffprobe %d", len(pics), want)
			}
			if st.Decoded != uint64(want) || st.Errors != 0 || st.SkippedUntilKeyframe != 0 {
				t.Errorf("stats %+v, want %d decoded and no errors or skips", st, want)
			}
			if st.Width != 768 || st.Height != 576 {
				t.Errorf("stats size %dx%d, want 768x576", st.Width, st.Height)
			}
			for i, p := range pics {
				if p.size != image.Pt(768, 576) {
					t.Fatalf("picture %d is %v, want 768x576", i, p.size)
				}
				if p.seq != uint64(i) {
					t.Fatalf("picture %d has Seq %d", i, p.seq)
				}
				if i > 0 && p.pts <= pics[i-1].pts {
					t.Fatalf("picture %d PTS %v not after %v: display order lost", i, p.pts, pics[i-1].pts)
				}
				if p.recv.IsZero() {
					t.Fatalf("picture %d has no Received time", i)
				}
				if p.mean < 40 || p.mean > 220 {
					t.Fatalf("picture %d mean %.1f: not a plausible picture", i, p.mean)
				}
			}
		})
	}
}

func TestResolutionChange(t *testing.T) {
	big := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipIPP...))
	small := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipSmall...))
	aus := append(append(append([]media.AccessUnit{}, big...), small...), big...)
	pics, st := run(t, aus)
	if len(pics) != len(aus) {
		t.Fatalf("decoded %d pictures from %d access units", len(pics), len(aus))
	}
	for i, p := range pics {
		want := image.Pt(768, 576)
		if i >= len(big) && i < len(big)+len(small) {
			want = image.Pt(320, 240)
		}
		if p.size != want {
			t.Fatalf("picture %d is %v, want %v", i, p.size, want)
		}
	}
	if st.Errors != 0 || st.Width != 768 || st.Height != 576 {
		t.Errorf("stats %+v, want no errors and 768x576 last", st)
	}
}

func TestCodecChange(t *testing.T) {
	if !testclip.HasEncoder("libx265") {
		t.Skip("ffmpeg has no libx265 encoder; codec change not tested")
	}
	h264 := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipSmall...))
	h265Path := testclip.Make(t, ".mp4", clipH265...)
	h265 := edgetest.AccessUnits(t, h265Path)
	pics, st := run(t, append(append([]media.AccessUnit{}, h264...), h265...))
	want := len(h264) + testclip.CountFrames(t, h265Path)
	if len(pics) != want || st.Errors != 0 {
		t.Errorf("decoded %d pictures with %d errors, want %d and none", len(pics), st.Errors, want)
	}
	if last := pics[len(pics)-1].size; last != image.Pt(768, 576) {
		t.Errorf("last picture %v, want the H.265 clip's 768x576", last)
	}
}

// TestDamagedInput feeds damage into a stream without B-frames (one picture
// per access unit, keyframe every 10) and checks that the damage is
// counted and decoding resumes at the next keyframe.
func TestDamagedInput(t *testing.T) {
	aus := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipIPP...))
	if !aus[0].Keyframe || !aus[10].Keyframe || !aus[20].Keyframe || aus[5].Keyframe {
		t.Fatal("clip does not have a keyframe every 10 access units")
	}
	rng := rand.New(rand.NewSource(7))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	n := len(aus)
	with := func(i int, au media.AccessUnit) []media.AccessUnit {
		s := append([]media.AccessUnit{}, aus...)
		s[i] = au
		return s
	}
	truncated := func(i int) media.AccessUnit {
		au := aus[i]
		au.NALUs = append([][]byte{}, au.NALUs...)
		last := au.NALUs[len(au.NALUs)-1]
		au.NALUs[len(au.NALUs)-1] = last[:len(last)/4]
		return au
	}
	garbage := media.AccessUnit{Codec: media.H264, NALUs: [][]byte{random(200), random(3000)}, PTS: aus[13].PTS}

	tests := []struct {
		name        string
		aus         []media.AccessUnit
		decoded     int
		minErrors   uint64
		skipped     uint64
		firstSizeOK bool
	}{
		{"start before the first keyframe", aus[3:], n - 10, 0, 7, true},
		{"random NALUs mid-GOP", with(13, garbage), n - 7, 1, 6, true},
		{"truncated P slice", with(13, truncated(13)), n - 7, 1, 6, true},
		{"truncated keyframe", with(10, truncated(10)), n - 10, 1, 9, true},
		{"garbage marked as keyframe first", append([]media.AccessUnit{{Codec: media.H264, NALUs: [][]byte{random(500)}, Keyframe: true}}, aus...), n, 1, 0, true},
		{"unknown codec", append([]media.AccessUnit{{Codec: 42, NALUs: [][]byte{{1}}}}, aus...), n, 1, 0, true},
		{"empty access units", append([]media.AccessUnit{{Codec: media.H264, Keyframe: true}, {Codec: media.H264, NALUs: [][]byte{{}}}}, aus...), n, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pics, st := run(t, tt.aus)
			t.Logf("stats %+v", st)
			if len(pics) != tt.decoded || st.Decoded != uint64(tt.decoded) {
				t.Errorf("decoded %d pictures (stats %d), want %d", len(pics), st.Decoded, tt.decoded)
			}
			if st.Errors < tt.minErrors {
				t.Errorf("%d errors counted, want at least %d", st.Errors, tt.minErrors)
			}
			if st.SkippedUntilKeyframe != tt.skipped {
				t.Errorf("%d access units skipped, want %d", st.SkippedUntilKeyframe, tt.skipped)
			}
			for i, p := range pics {
				if p.mean < 40 || p.mean > 220 {
					t.Fatalf("picture %d mean %.1f: damaged picture passed on", i, p.mean)
				}
			}
		})
	}
}

func TestCancelWhileBlocked(t *testing.T) {
	aus := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipIPP...))
	d, in := fed(t, aus)
	out := make(chan decode.Frame) // nobody reads: Run blocks holding a picture
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in, out) }()
	deadline := time.After(10 * time.Second)
	for len(in) == len(aus) {
		select {
		case <-deadline:
			t.Fatal("Run took no access unit")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, ok := <-out; ok {
		t.Error("out not closed")
	}
}

func TestDecodeAU(t *testing.T) {
	path := testclip.Make(t, ".mp4", clipBFrames...)
	d, err := decode.New(decode.Config{Threads: 2, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	count := 0
	for _, au := range edgetest.AccessUnits(t, path) {
		frames, err := d.DecodeAU(au)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			count++
			f.Close()
		}
	}
	frames, err := d.Flush()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		count++
		f.Close()
	}
	if want := testclip.CountFrames(t, path); count != want {
		t.Errorf("decoded %d pictures, ffprobe %d", count, want)
	}
	if _, err := d.DecodeAU(media.AccessUnit{Codec: media.H264, NALUs: [][]byte{{0x65, 1, 2, 3}}, Keyframe: true}); err == nil {
		t.Error("DecodeAU of a broken keyframe returned no error")
	}
	d.Close()
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := decode.New(decode.Config{Threads: -1}); err == nil {
		t.Error("Threads -1 accepted")
	}
}

// A picture is counted before it is handed on: whoever receives it (the
// mask stage) and then reads the decoder's stats finds it counted, so a
// read of Masked and then Decoded never shows more masked than decoded
// (an audit masking record once said decoded 2, masked 3). A picture that
// cannot be handed on because the run ends is not counted.
func TestCountedBeforeHandedOn(t *testing.T) {
	aus := edgetest.AccessUnits(t, testclip.Make(t, ".mp4", clipIPP...))
	d, in := fed(t, aus)
	close(in)
	out := make(chan decode.Frame) // unbuffered: the hand-off is the receive
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, in, out) }()
	n := uint64(0)
	for f := range out {
		n++
		if got := d.Stats().Decoded; got < n {
			t.Errorf("picture %d received while the stats count %d decoded", n, got)
		}
		f.Close()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := d.Stats().Decoded; got != n {
		t.Errorf("%d pictures received, stats count %d", n, got)
	}

	// Cancelled while blocked handing a picture on: that picture is not counted.
	d2, in2 := fed(t, aus)
	blocked := make(chan decode.Frame)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- d2.Run(ctx2, in2, blocked) }()
	deadline := time.Now().Add(10 * time.Second)
	for d2.Stats().Decoded == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel2()
	<-done2
	if got := d2.Stats().Decoded; got != 0 {
		t.Errorf("nothing was received but the stats count %d decoded", got)
	}
}
