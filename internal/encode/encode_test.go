package encode_test

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
)

// picture draws a frame whose left half is a flat colour and whose right
// half moves with i, so the encoder has real work and the decoder output
// can be checked.
func picture(w, h, i int) []byte {
	b := make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := (y*w + x) * 3
			if x < w/2 {
				b[o], b[o+1], b[o+2] = 200, 40, 40
			} else {
				b[o], b[o+1], b[o+2] = byte(x+i*4), byte(y), byte(x^y)
			}
		}
	}
	return b
}

func TestEncodeDecode(t *testing.T) {
	cases := []struct {
		name         string
		cfg          encode.Config
		frames       int
		wantW, wantH int
		wantKeys     int
	}{
		{"same size, 1 s GOP", encode.Config{Width: 320, Height: 240, FPS: 10, GOP: time.Second, BitrateKbps: 2000}, 25, 320, 240, 3},
		{"downscaled", encode.Config{Width: 640, Height: 360, OutWidth: 320, FPS: 15, BitrateKbps: 2000}, 10, 320, 180, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, err := encode.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			if w, h := enc.OutSize(); w != c.wantW || h != c.wantH {
				t.Fatalf("OutSize = %dx%d, want %dx%d", w, h, c.wantW, c.wantH)
			}
			dec, err := avcodec.NewDecoder(media.H264, avcodec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			keys, decoded := 0, 0
			var last time.Duration = -1
			for i := 0; i < c.frames; i++ {
				pts := time.Duration(i) * time.Second / time.Duration(c.cfg.FPS)
				pkts, err := enc.Encode(picture(c.cfg.Width, c.cfg.Height, i), 3*c.cfg.Width, pts)
				if err != nil {
					t.Fatal(err)
				}
				if len(pkts) != 1 {
					t.Fatalf("frame %d: %d packets, want 1 (zero latency)", i, len(pkts))
				}
				p := pkts[0]
				if p.PTS <= last || p.DTS != p.PTS {
					t.Fatalf("frame %d: pts %v dts %v after %v", i, p.PTS, p.DTS, last)
				}
				last = p.PTS
				var au h264.AnnexB
				if err := au.Unmarshal(p.Data); err != nil {
					t.Fatalf("frame %d: not Annex-B: %v", i, err)
				}
				types := map[h264.NALUType]bool{}
				for _, n := range au {
					types[h264.NALUType(n[0]&0x1f)] = true
				}
				if p.Key {
					keys++
					if !types[h264.NALUTypeSPS] || !types[h264.NALUTypePPS] || !types[h264.NALUTypeIDR] {
						t.Fatalf("frame %d: keyframe without SPS/PPS/IDR: %v", i, types)
					}
				} else if i == 0 {
					t.Fatal("first access unit is not a keyframe")
				}
				if err := dec.Send(p.Data, int64(i)); err != nil {
					t.Fatal(err)
				}
				for {
					ok, err := dec.Receive()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					decoded++
					if dec.Width() != c.wantW || dec.Height() != c.wantH {
						t.Fatalf("decoded %dx%d, want %dx%d", dec.Width(), dec.Height(), c.wantW, c.wantH)
					}
					bgr := make([]byte, dec.BGRSize())
					if err := dec.ToBGR(bgr, 3*dec.Width()); err != nil {
						t.Fatal(err)
					}
					// The flat left half survives lossy coding nearly intact.
					o := (dec.Height()/2*dec.Width() + dec.Width()/4) * 3
					if d := int(bgr[o]) - 200; d < -12 || d > 12 {
						t.Fatalf("decoded blue %d at the flat half, want about 200", bgr[o])
					}
				}
			}
			if decoded != c.frames {
				t.Errorf("decoded %d pictures, want %d", decoded, c.frames)
			}
			if keys != c.wantKeys {
				t.Errorf("%d keyframes, want %d", keys, c.wantKeys)
			}
		})
	}
}

func TestForceKeyAndPTS(t *testing.T) {
	enc, err := encode.New(encode.Config{Width: 64, Height: 64, FPS: 10, BitrateKbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pic := picture(64, 64, 0)
	var prev time.Duration = -1
	for i, pts := range []time.Duration{0, 100 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond} {
		if i == 3 {
			enc.ForceKey()
		}
		pkts, err := enc.Encode(pic, 64*3, pts)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkts) != 1 || pkts[0].PTS <= prev {
			t.Fatalf("frame %d (pts %v): packets %d, pts %v after %v: want one with increasing pts", i, pts, len(pkts), pkts[0].PTS, prev)
		}
		prev = pkts[0].PTS
		if want := i == 0 || i == 3; pkts[0].Key != want {
			t.Errorf("frame %d: key = %v, want %v", i, pkts[0].Key, want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  encode.Config
	}{
		{"odd size", encode.Config{Width: 63, Height: 64}},
		{"no size", encode.Config{}},
		{"no rate", encode.Config{Width: 64, Height: 64, BitrateKbps: 2000}},
		{"no bitrate", encode.Config{Width: 64, Height: 64, FPS: 10}},
		{"unknown preset", encode.Config{Width: 64, Height: 64, Preset: "warp-speed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if enc, err := encode.New(c.cfg); err == nil {
				enc.Close()
				t.Fatal("New succeeded")
			}
		})
	}
	enc, err := encode.New(encode.Config{Width: 64, Height: 64, FPS: 10, BitrateKbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(make([]byte, 10), 64*3, 0); err == nil {
		t.Error("short buffer accepted")
	}
	enc.Close()
	enc.Close()
	if _, err := enc.Encode(make([]byte, 64*64*3), 64*3, 0); err == nil {
		t.Error("Encode after Close succeeded")
	}
}

func TestOutSize(t *testing.T) {
	for _, c := range []struct{ w, h, req, ww, wh int }{
		{1280, 720, 0, 1280, 720},
		{1280, 720, 640, 640, 360},
		{1280, 720, 2000, 1280, 720},
		{768, 576, 641, 640, 480},
	} {
		if w, h := encode.OutSize(c.w, c.h, c.req); w != c.ww || h != c.wh {
			t.Errorf("OutSize(%d, %d, %d) = %dx%d, want %dx%d", c.w, c.h, c.req, w, h, c.ww, c.wh)
		}
	}
}
