package mask_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// picture converts a BGR test picture to planes; the caller closes both.
func picture(t testing.TB, bgr gocv.Mat) yuv.Picture {
	t.Helper()
	p, err := yuv.FromBGR(bgr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// blank is a w x h picture of noise (no sample equals a fill by design of
// the test: noise is drawn away from the fills used here).
func blank(t testing.TB, w, h int) yuv.Picture {
	t.Helper()
	p, err := yuv.New(w, h)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := p.Planes()
	if err != nil {
		p.Close()
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for _, b := range [][]byte{pl.Y, pl.U, pl.V} {
		for i := range b {
			b[i] = byte(40 + r.IntN(60)) // 40..99: never 16, 128 or a green fill
		}
	}
	return p
}

// checkMasked checks a masked frame against the independent rasterisation:
// on the planes (luma and the conservative chroma rule, exactly) and after
// conversion to BGR (exactly the fill a masked frame shows).
func checkMasked(t testing.TB, f *mask.Frame, check *privacycheck.Cache, color [3]uint8) privacycheck.Result {
	t.Helper()
	sz := f.Size()
	px := check.Get(sz.X, sz.Y)
	pl, err := f.Planes()
	if err != nil {
		t.Fatal(err)
	}
	c := yuv.FromBGRColor(color)
	res, err := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, px, [3]uint8{c.Y, c.U, c.V}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Leaked > 0 {
		t.Errorf("frame %d (%dx%d): %d private pixels whose luma or chroma is not the fill, first at %v", f.Seq(), sz.X, sz.Y, res.Leaked, res.First)
	}
	shown, err := mask.ShownFill(color)
	if err != nil {
		t.Fatal(err)
	}
	bgr, err := f.BGR()
	if err != nil {
		t.Fatal(err)
	}
	data, err := bgr.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := privacycheck.Check(data, px, shown, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Leaked > 0 {
		t.Errorf("frame %d (%dx%d) in BGR: %d private pixels not %v, first at %v", f.Seq(), sz.X, sz.Y, rb.Leaked, shown, rb.First)
	}
	res.Leaked += rb.Leaked
	return res
}

// TestChromaRoundingAtEveryEdge masks pictures of every size 1..24 x 1..24
// and some odd large ones with polygons whose slanted edges cross 2x2
// chroma blocks at every offset, and checks at pixel level: every private
// luma pixel is the fill, every chroma sample any private pixel shares is
// the fill, and every chroma sample no private pixel shares is untouched
// (the rounding is conservative, not "paint everything").
func TestChromaRoundingAtEveryEdge(t *testing.T) {
	polys := [][]zones.Polygon{
		{poly(0.13, 0.07, 0.61, 0.21, 0.47, 0.83, 0.05, 0.66)}, // slanted quadrilateral
		{poly(0.5, 0, 1, 0, 1, 0.02, 0.5, 0.02)},               // one thin row at the top right
		{poly(0.97, 0.4, 1, 0.4, 1, 0.6, 0.97, 0.6)},           // the last column only
		{poly(0, 0.99, 1, 0.99, 1, 1, 0, 1)},                   // the last row only
		{poly(0.31, 0.31, 0.32, 0.31, 0.32, 0.32)},             // a sliver: one pixel or two
	}
	var sizes [][2]int
	for w := 1; w <= 24; w++ {
		for h := 1; h <= 24; h++ {
			sizes = append(sizes, [2]int{w, h})
		}
	}
	sizes = append(sizes, [2]int{641, 361}, [2]int{33, 17}, [2]int{1, 720}, [2]int{720, 1})
	for _, color := range [][3]uint8{{}, {255, 0, 255}, {0, 255, 0}} {
		c := yuv.FromBGRColor(color)
		for pi, ps := range polys {
			st, err := mask.New(mask.Config{Zones: set(ps), Color: color})
			if err != nil {
				t.Fatal(err)
			}
			check := independent(ps)
			painted := 0
			for _, sz := range sizes {
				w, h := sz[0], sz[1]
				p := blank(t, w, h)
				before, _ := p.Planes()
				u0, v0 := append([]byte(nil), before.U...), append([]byte(nil), before.V...)
				f, err := st.Apply(decode.Frame{Pic: p})
				if err != nil {
					t.Fatalf("%dx%d: %v", w, h, err)
				}
				res := checkMasked(t, f, check, color)
				painted += res.Checked
				// Samples that no private pixel shares keep their value.
				px := check.Get(w, h)
				private := make([]bool, before.CStride*before.CH)
				for _, i := range px.Idx {
					x, y := int(i)%w, int(i)/w
					private[(y/2)*before.CStride+x/2] = true
				}
				pl, _ := f.Planes()
				for cy := 0; cy < pl.CH; cy++ {
					for cx := 0; cx < pl.CW; cx++ {
						i := cy*pl.CStride + cx
						if !private[i] && (pl.U[i] != u0[i] || pl.V[i] != v0[i]) {
							t.Errorf("colour %v polygon %d %dx%d: chroma sample (%d,%d) of no private pixel was painted", color, pi, w, h, cx, cy)
						}
					}
				}
				f.Close()
				if t.Failed() {
					t.Fatalf("colour %v (YUV %v) polygon %d: stopping at %dx%d", color, c, pi, w, h)
				}
			}
			if painted == 0 {
				t.Fatalf("polygon %d: no private pixel at any size; the test proves nothing", pi)
			}
		}
	}
}

// TestPlaneCheckCatchesFloorRounding proves the chroma rule above can fail:
// a chroma sample shared by one private pixel and three public ones, left
// unpainted (what rounding the sample grid down would do), is a leak.
func TestPlaneCheckCatchesFloorRounding(t *testing.T) {
	ps := []zones.Polygon{poly(0.97, 0.4, 1, 0.4, 1, 0.6, 0.97, 0.6)}
	for _, w := range []int{33, 34} {
		st, _ := mask.New(mask.Config{Zones: set(ps)})
		f, err := st.Apply(decode.Frame{Pic: blank(t, w, 20)})
		if err != nil {
			t.Fatal(err)
		}
		px := independent(ps).Get(w, 20)
		pl, _ := f.Planes()
		c := yuv.FromBGRColor([3]uint8{})
		fill := [3]uint8{c.Y, c.U, c.V}
		if res, _ := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, px, fill, 0); res.Leaked != 0 || res.Checked == 0 {
			t.Fatalf("width %d: honest mask: %+v", w, res)
		}
		i := px.Idx[0]
		x, y := int(i)%w, int(i)/w
		pl.U[(y/2)*pl.CStride+x/2] = 90 // the sample is shared; undo its fill
		res, _ := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, px, fill, 0)
		if res.Leaked == 0 {
			t.Fatalf("width %d: an unpainted chroma sample of private pixel (%d,%d) passed", w, x, y)
		}
		f.Close()
	}
}

// BenchmarkPaintI420 measures masking one frame's planes.
func BenchmarkPaintI420(b *testing.B) {
	for _, sz := range [][2]int{{768, 576}, {1280, 720}, {1920, 1080}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			s := set(privacy)
			p := blank(b, sz[0], sz[1])
			defer p.Close()
			if err := mask.Paint(p, s, [3]uint8{}); err != nil { // warm the raster cache
				b.Fatal(err)
			}
			b.SetBytes(int64(sz[0] * sz[1] * 3 / 2))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := mask.Paint(p, s, [3]uint8{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
