package avcodec_test

import (
	"errors"
	"math/rand"
	"testing"

	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func annexB(au media.AccessUnit) []byte {
	var b []byte
	for _, n := range au.NALUs {
		b = append(b, 0, 0, 0, 1)
		b = append(b, n...)
	}
	return b
}

// decodeAll decodes every AU plus the flushed tail and checks each picture's
// BGR conversion; it returns the picture count and the mean of all bytes.
func decodeAll(t *testing.T, d *avcodec.Decoder, aus []media.AccessUnit, w, h int) (int, float64) {
	t.Helper()
	buf := make([]byte, w*h*3+avcodec.BGRSlack)
	n, sum := 0, 0.0
	recv := func() {
		for {
			ok, err := d.Receive()
			if err != nil {
				t.Fatalf("picture %d: %v", n, err)
			}
			if !ok {
				return
			}
			if d.Width() != w || d.Height() != h {
				t.Fatalf("picture %d is %dx%d, want %dx%d", n, d.Width(), d.Height(), w, h)
			}
			if err := d.ToBGR(buf, w*3); err != nil {
				t.Fatal(err)
			}
			var s uint64
			for i := 0; i < w*h*3; i += 7 {
				v := buf[i]
				s += uint64(v)
			}
			sum += float64(s) / float64((w*h*3+6)/7)
			n++
		}
	}
	for i, au := range aus {
		if err := d.Send(annexB(au), int64(au.PTS)); err != nil {
			t.Fatalf("AU %d: %v", i, err)
		}
		recv()
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	recv()
	return n, sum / float64(max(n, 1))
}

func TestDecodeClip(t *testing.T) {
	tests := []struct {
		name  string
		codec media.Codec
		args  []string
		w, h  int
	}{
		{"H.264 with B-frames", media.H264, []string{"-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-g", "10"}, 768, 576},
		{"H.264 odd size", media.H264, []string{"-t", "2", "-vf", "scale=322:242", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10"}, 322, 242},
		{"H.265", media.H265, []string{"-t", "2", "-c:v", "libx265", "-preset", "ultrafast", "-g", "10", "-x265-params", "log-level=error"}, 768, 576},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.codec == media.H265 && !testclip.HasEncoder("libx265") {
				t.Skip("ffmpeg has no libx265 encoder; H.265 not tested")
			}
			path := testclip.Make(t, ".mp4", tt.args...)
			d, err := avcodec.NewDecoder(tt.codec, avcodec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			n, mean := decodeAll(t, d, edgetest.AccessUnits(t, path), tt.w, tt.h)
			if want := testclip.CountFrames(t, path); n != want {
				t.Errorf("decoded %d pictures, ffprobe %d", n, want)
			}
			// vtest.avi is a grey street scene: neither black nor white.
			if mean < 40 || mean > 220 {
				t.Errorf("mean byte %.1f, want a plausible picture", mean)
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	path := testclip.Make(t, ".mp4", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10")
	aus := edgetest.AccessUnits(t, path)
	key := annexB(aus[0])
	tests := []struct {
		name string
		data []byte
	}{
		{"random bytes", random(5000)},
		{"random NALUs", append(append([]byte{0, 0, 0, 1}, random(300)...), append([]byte{0, 0, 1, 0x65}, random(3000)...)...)},
		{"truncated keyframe", key[:len(key)/3]},
		{"keyframe with flipped bytes", func() []byte {
			b := append([]byte(nil), key...)
			for i := len(b) / 4; i < len(b); i += 97 {
				b[i] ^= 0x5a
			}
			return b
		}()},
		{"start codes only", []byte{0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1}},
		{"slice without parameter sets", annexB(aus[1])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := avcodec.NewDecoder(media.H264, avcodec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			err = d.Send(tt.data, 0)
			pics := 0
			for err == nil {
				var ok bool
				if ok, err = d.Receive(); !ok {
					break
				}
				pics++
			}
			t.Logf("pictures %d, error: %v", pics, err)
			if err == nil {
				t.Errorf("garbage gave %d pictures and no error", pics)
			}
			// Whatever libavcodec made of it, the decoder must recover.
			d.Reset()
			n, _ := decodeAll(t, d, aus, 768, 576)
			if n != len(aus) {
				t.Errorf("after garbage decoded %d of %d pictures", n, len(aus))
			}
		})
	}
}

func TestAPIMisuse(t *testing.T) {
	if _, err := avcodec.NewDecoder(media.Codec(99), avcodec.Options{}); err == nil {
		t.Error("unknown codec accepted")
	}
	d, err := avcodec.NewDecoder(media.H265, avcodec.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ToBGR(make([]byte, 10), 3); !errors.Is(err, avcodec.ErrNoPicture) {
		t.Errorf("ToBGR before any picture: %v, want ErrNoPicture", err)
	}
	if ok, err := d.Receive(); ok || err != nil {
		t.Errorf("Receive with no input: %v %v, want false nil", ok, err)
	}
	if err := d.Send(nil, 0); err != nil {
		t.Errorf("empty Send: %v", err)
	}
	d.Close()
	d.Close()
	if err := d.Send([]byte{0, 0, 1, 0x40}, 0); !errors.Is(err, avcodec.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if _, err := d.Receive(); !errors.Is(err, avcodec.ErrClosed) {
		t.Errorf("Receive after Close: %v, want ErrClosed", err)
	}
	if err := d.ToBGR(nil, 0); !errors.Is(err, avcodec.ErrClosed) {
		t.Errorf("ToBGR after Close: %v, want ErrClosed", err)
	}
}

func TestToBGRBufferChecks(t *testing.T) {
	path := testclip.Make(t, ".mp4", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10")
	aus := edgetest.AccessUnits(t, path)
	d, err := avcodec.NewDecoder(media.H264, avcodec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Send(annexB(aus[0]), 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Receive(); !ok || err != nil {
		t.Fatalf("no picture from keyframe: %v", err)
	}
	tests := []struct {
		name   string
		size   int
		stride int
		ok     bool
	}{
		{"tight", 768*576*3 + avcodec.BGRSlack, 768 * 3, true},
		{"padded rows", 800*3*576 + avcodec.BGRSlack, 800 * 3, true},
		{"no slack", 768 * 576 * 3, 768 * 3, false},
		{"short buffer", 768*576*3 + avcodec.BGRSlack - 1, 768 * 3, false},
		{"short stride", 768*576*3 + avcodec.BGRSlack, 767 * 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.ToBGR(make([]byte, tt.size), tt.stride)
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
