package mask_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// A changing-room door (a slanted quadrilateral) and a small bathroom window.
var privacy = []zones.Polygon{
	poly(0.02, 0.10, 0.27, 0.05, 0.31, 0.93, 0.04, 0.97),
	poly(0.70, 0.10, 0.83, 0.12, 0.81, 0.31, 0.72, 0.27),
}

func set(polys []zones.Polygon) *zones.Set {
	var zs []zones.Zone
	for i, p := range polys {
		zs = append(zs, zones.Zone{ID: string(rune('a' + i)), Kind: zones.Privacy, Polygon: p})
	}
	zs = append(zs, zones.Zone{ID: "walk", Kind: zones.Monitored, Signage: "s", Polygon: poly(0.3, 0.3, 0.9, 0.3, 0.9, 0.9, 0.3, 0.9)})
	return zones.NewSet(zs, nil)
}

func independent(polys []zones.Polygon) *privacycheck.Cache {
	var out []privacycheck.Polygon
	for _, p := range polys {
		var q privacycheck.Polygon
		for _, v := range p {
			q = append(q, [2]float64{v.X, v.Y})
		}
		out = append(out, q)
	}
	return privacycheck.NewCache(out)
}

// TestWholeClipHasNoPrivatePixel runs every frame of a real recording through
// the stage and checks each output against an independent rasterisation.
func TestWholeClipHasNoPrivatePixel(t *testing.T) {
	if _, err := os.Stat(vtest); err != nil {
		t.Fatalf("test video missing (run scripts/deps.sh, package opencv-doc): %v", err)
	}
	for _, tc := range []struct {
		name  string
		color [3]uint8
		limit int
	}{
		{"black whole clip", [3]uint8{}, 0},
		{"green first 120 frames", [3]uint8{0, 255, 0}, 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := mask.New(mask.Config{Zones: set(privacy), Color: tc.color, Block: true})
			if err != nil {
				t.Fatal(err)
			}
			check := independent(privacy)
			vc, err := gocv.VideoCaptureFile(vtest)
			if err != nil {
				t.Fatal(err)
			}
			defer vc.Close()

			in := make(chan decode.Frame, 4)
			out := make(chan *mask.Frame, 4)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- st.Run(ctx, in, out) }()
			go func() {
				defer close(in)
				for seq := uint64(0); tc.limit == 0 || seq < uint64(tc.limit); seq++ {
					m := gocv.NewMat()
					if !vc.Read(&m) || m.Empty() {
						m.Close()
						return
					}
					p, err := yuv.FromBGR(m)
					m.Close()
					if err != nil {
						t.Error(err)
						return
					}
					in <- decode.Frame{Pic: p, Seq: seq}
				}
			}()

			frames, leaked := 0, 0
			for f := range out {
				if f.Seq() != uint64(frames) {
					t.Errorf("frame %d arrived as %d: frames lost or reordered", frames, f.Seq())
				}
				res := checkMasked(t, f, check, tc.color)
				if res.Checked == 0 {
					t.Fatalf("frame %d: no private pixels to check", f.Seq())
				}
				if res.Leaked > 0 {
					leaked++
					t.Errorf("frame %d: %d private pixels not filled, first at %v", f.Seq(), res.Leaked, res.First)
				}
				frames++
				f.Close()
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if frames < 100 {
				t.Fatalf("only %d frames decoded from %s", frames, vtest)
			}
			if s := st.Stats(); s.Masked != uint64(frames) || s.Failed != 0 {
				t.Fatalf("stats %+v, want %d masked and none failed", s, frames)
			}
			t.Logf("%d frames checked, %d leaked", frames, leaked)
		})
	}
}

// TestCheckerCatchesAShiftedMask makes sure the pixel check above can fail: a
// mask painted two pixels to the left must be reported.
func TestCheckerCatchesAShiftedMask(t *testing.T) {
	const w, h = 320, 240
	shift := 2.0 / w
	var shifted []zones.Polygon
	for _, p := range privacy {
		var q zones.Polygon
		for _, v := range p {
			q = append(q, zones.Point{X: max(v.X-shift, 0), Y: v.Y})
		}
		shifted = append(shifted, q)
	}
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 200, 200, 0), h, w, gocv.MatTypeCV8UC3)
	p := picture(t, m)
	m.Close()
	defer p.Close()
	if err := mask.Paint(p, set(shifted), [3]uint8{}); err != nil {
		t.Fatal(err)
	}
	pl, err := p.Planes()
	if err != nil {
		t.Fatal(err)
	}
	c := yuv.FromBGRColor([3]uint8{})
	res, err := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, independent(privacy).Get(w, h), [3]uint8{c.Y, c.U, c.V}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Leaked == 0 {
		t.Fatal("a mask shifted by two pixels passed the plane check")
	}
	bgr, err := p.BGR()
	if err != nil {
		t.Fatal(err)
	}
	defer bgr.Close()
	data, _ := bgr.DataPtrUint8()
	if res, err = privacycheck.Check(data, independent(privacy).Get(w, h), [3]uint8{}, 0); err != nil || res.Leaked == 0 {
		t.Fatalf("a mask shifted by two pixels passed the BGR check (%v)", err)
	}
}

// TestUnmaskableFramesAreDropped: fail closed. Frames the stage cannot paint
// never reach the output, are counted, and their pictures are freed.
func TestUnmaskableFramesAreDropped(t *testing.T) {
	st, err := mask.New(mask.Config{Zones: set(privacy), Block: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(decode.Frame{Seq: 1}); !errors.Is(err, mask.ErrUnmaskable) {
		t.Errorf("a frame without a picture: err = %v, want ErrUnmaskable", err)
	}
	in := make(chan decode.Frame, 4)
	out := make(chan *mask.Frame, 4)
	in <- decode.Frame{Seq: 10}
	in <- decode.Frame{Pic: blank(t, 64, 48), Seq: 11}
	close(in)
	if err := st.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for f := range out {
		seqs = append(seqs, f.Seq())
		f.Close()
	}
	if len(seqs) != 1 || seqs[0] != 11 {
		t.Fatalf("output frames %v, want only the maskable frame 11", seqs)
	}
	if s := st.Stats(); s.Failed != 2 || s.Masked != 1 {
		t.Fatalf("stats %+v, want 2 failed, 1 masked", s)
	}
}

// TestSlowConsumerDropsInsteadOfBlocking: a live camera never waits for analysis.
func TestSlowConsumerDropsInsteadOfBlocking(t *testing.T) {
	st, _ := mask.New(mask.Config{Zones: set(privacy)})
	in := make(chan decode.Frame, 10)
	out := make(chan *mask.Frame, 1) // nobody reads until Run returns
	for i := 0; i < 5; i++ {
		in <- decode.Frame{Pic: blank(t, 32, 24), Seq: uint64(i)}
	}
	close(in)
	if err := st.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for f := range out {
		n++
		f.Close()
	}
	if s := st.Stats(); n != 1 || s.Downstream != 4 {
		t.Fatalf("got %d frames out, stats %+v; want 1 out and 4 dropped downstream", n, s)
	}
}

func TestSharedFrameClosesWithLastReference(t *testing.T) {
	st, _ := mask.New(mask.Config{Zones: set(privacy)})
	f, err := st.Apply(decode.Frame{Pic: blank(t, 32, 24)})
	if err != nil {
		t.Fatal(err)
	}
	g := f.Ref()
	f.Close()
	if gm, err := g.BGR(); err != nil || gm.Ptr() == nil || gm.Empty() {
		t.Fatalf("picture freed while a reference remains (%v)", err)
	}
	g.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("closing a frame once too often did not panic")
		}
	}()
	g.Close()
}

// poly builds a polygon from x, y pairs.
func poly(xy ...float64) zones.Polygon {
	var p zones.Polygon
	for i := 0; i+1 < len(xy); i += 2 {
		p = append(p, zones.Point{X: xy[i], Y: xy[i+1]})
	}
	return p
}
