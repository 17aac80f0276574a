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

// planes is an I420 picture whose left half is flat (luma lumaLeft, chroma
// 90 and 200) and whose right half moves with i.
func planes(w, h, i int, lumaLeft byte) (y, u, v []byte) {
	// Room after each plane, as a yuv.Picture has: swscale may read past it.
	y, u, v = make([]byte, w*h, w*h+encode.InputSlack), make([]byte, w*h/4, w*h/4+encode.InputSlack), make([]byte, w*h/4, w*h/4+encode.InputSlack)
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			if c < w/2 {
				y[r*w+c] = lumaLeft
			} else {
				y[r*w+c] = byte(16 + (c+r+i*4)%200)
			}
		}
	}
	for r := 0; r < h/2; r++ {
		for c := 0; c < w/2; c++ {
			u[r*w/2+c], v[r*w/2+c] = 90, 200
			if c >= w/4 {
				u[r*w/2+c], v[r*w/2+c] = byte(60+c%100), byte(60+r%100)
			}
		}
	}
	return y, u, v
}

// TestEncodeI420: the masked planes go to libx264 as they are. A luma of 5
// (below the 16 of limited-range video) survives only if nothing converts
// the picture to BGR and back, which would clip it to 16; at half size it
// is filtered but still far below 16.
func TestEncodeI420(t *testing.T) {
	const w, h = 320, 240
	for _, c := range []struct {
		name         string
		outW         int
		wantW, wantH int
	}{
		{"same size", 0, 320, 240},
		{"downscaled", 160, 160, 120},
	} {
		t.Run(c.name, func(t *testing.T) {
			enc, err := encode.New(encode.Config{Width: w, Height: h, OutWidth: c.outW, Input: encode.I420, FPS: 10, BitrateKbps: 4000})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := avcodec.NewDecoder(media.H264, avcodec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			decoded := 0
			for i := range 5 {
				yp, up, vp := planes(w, h, i, 5)
				pkts, err := enc.EncodeI420(yp, w, up, vp, w/2, time.Duration(i)*100*time.Millisecond)
				if err != nil {
					t.Fatal(err)
				}
				if len(pkts) != 1 {
					t.Fatalf("frame %d: %d packets, want 1", i, len(pkts))
				}
				if err := dec.Send(pkts[0].Data, int64(i)); err != nil {
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
					dw, dh := dec.Width(), dec.Height()
					if dw != c.wantW || dh != c.wantH {
						t.Fatalf("decoded %dx%d, want %dx%d", dw, dh, c.wantW, c.wantH)
					}
					y, u, v := make([]byte, dw*dh+64), make([]byte, dw*dh/4+64), make([]byte, dw*dh/4+64)
					if err := dec.ToI420(y, dw, u, v, dw/2); err != nil {
						t.Fatal(err)
					}
					if got := y[dh/2*dw+dw/4]; got > 9 {
						t.Fatalf("frame %d: luma %d in the flat half, want about 5: the picture went through BGR", i, got)
					}
					if cu, cv := u[dh/4*dw/2+dw/8], v[dh/4*dw/2+dw/8]; cu < 84 || cu > 96 || cv < 194 || cv > 206 {
						t.Fatalf("frame %d: chroma %d, %d in the flat half, want about 90, 200", i, cu, cv)
					}
				}
			}
			if decoded != 5 {
				t.Errorf("decoded %d pictures of 5", decoded)
			}
		})
	}
}

// TestInputFormatChecked: each Encode method takes only the format the
// encoder was opened for, and short planes are refused before C reads them.
func TestInputFormatChecked(t *testing.T) {
	bgr, err := encode.New(encode.Config{Width: 64, Height: 64, FPS: 10, BitrateKbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer bgr.Close()
	y, u, v := planes(64, 64, 0, 100)
	if _, err := bgr.EncodeI420(y, 64, u, v, 32, 0); err == nil {
		t.Error("a BGR encoder took I420 planes")
	}
	i420, err := encode.New(encode.Config{Width: 64, Height: 64, Input: encode.I420, FPS: 10, BitrateKbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer i420.Close()
	if _, err := i420.Encode(make([]byte, 64*64*3), 64*3, 0); err == nil {
		t.Error("an I420 encoder took BGR")
	}
	if _, err := i420.EncodeI420(y[:64*63], 64, u, v, 32, 0); err == nil {
		t.Error("a short luma plane was accepted")
	}
	if _, err := i420.EncodeI420(y, 64, u[:31*32], v, 32, 0); err == nil {
		t.Error("a short chroma plane was accepted")
	}
	if _, err := i420.EncodeI420(y, 64, u, v, 32, 0); err != nil {
		t.Errorf("a whole picture: %v", err)
	}
}
