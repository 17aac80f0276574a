package yuv_test

import (
	"image"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/resourceleak"
	"github.com/edgeprivacy/edge/internal/yuv"
)

func TestMain(m *testing.M) { resourceleak.Main(m) }

// TestBGRWritesEveryPixel: swscale's SIMD converter leaves the tail of a
// row unwritten at some widths (2, 4, 6 past a multiple of 16); every pixel
// of every width must come out as the flat colour put in.
func TestBGRWritesEveryPixel(t *testing.T) {
	c := yuv.FromBGRColor([3]uint8{255, 0, 255})
	want, err := yuv.ShownBGR(c)
	if err != nil {
		t.Fatal(err)
	}
	for w := 1; w <= 200; w++ {
		for _, h := range []int{1, 2, 3, 17} {
			p := flat(t, w, h, c)
			m, err := p.BGR()
			if err != nil {
				t.Fatal(err)
			}
			if m.Cols() != w || m.Rows() != h || !m.IsContinuous() || m.Type() != gocv.MatTypeCV8UC3 {
				t.Fatalf("%dx%d converted to %dx%d type %v continuous %v", w, h, m.Cols(), m.Rows(), m.Type(), m.IsContinuous())
			}
			data, _ := m.DataPtrUint8()
			for i := 0; i < len(data); i += 3 {
				if [3]uint8{data[i], data[i+1], data[i+2]} != want {
					t.Fatalf("%dx%d: pixel %d is %v, want %v", w, h, i/3, data[i:i+3], want)
				}
			}
			m.Close()
			p.Close()
		}
	}
}

// TestCropBGRMatchesWhole: a crop converted alone equals the same part of
// the whole frame converted, at every offset parity.
func TestCropBGRMatchesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{64, 48}, {65, 49}, {768, 576}, {33, 17}} {
		w, h := sz[0], sz[1]
		p, err := yuv.New(w, h)
		if err != nil {
			t.Fatal(err)
		}
		pl, _ := p.Planes()
		for _, b := range [][]byte{pl.Y, pl.U, pl.V} {
			for i := range b {
				b[i] = byte(16 + r.IntN(220))
			}
		}
		pl.Pad()
		whole, err := p.BGR()
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			x0, y0 := r.IntN(w), r.IntN(h)
			rect := image.Rect(x0, y0, x0+1+r.IntN(w-x0), y0+1+r.IntN(h-y0))
			crop, err := p.CropBGR(rect)
			if err != nil {
				t.Fatal(err)
			}
			ref := whole.Region(rect)
			diff := gocv.NewMat()
			gocv.AbsDiff(crop, ref, &diff)
			sum := diff.Sum()
			if crop.Cols() != rect.Dx() || crop.Rows() != rect.Dy() || !crop.IsContinuous() || sum.Val1+sum.Val2+sum.Val3 != 0 {
				t.Errorf("%dx%d crop %v: %dx%d, differs from the whole frame by %v", w, h, rect, crop.Cols(), crop.Rows(), sum)
			}
			diff.Close()
			ref.Close()
			crop.Close()
		}
		whole.Close()
		p.Close()
	}
}

func TestFromBGRRoundTrip(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {64, 48}} {
		src := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 200, 30, 0), sz[1], sz[0], gocv.MatTypeCV8UC3)
		p, err := yuv.FromBGR(src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		m, err := p.BGR()
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < sz[1]; y++ {
			for x := 0; x < sz[0]; x++ {
				v := m.GetVecbAt(y, x)
				if absd(v[0], 10) > 3 || absd(v[1], 200) > 3 || absd(v[2], 30) > 3 {
					t.Fatalf("%v: pixel (%d,%d) = %v, want (10,200,30) within 3", sz, x, y, v)
				}
			}
		}
		m.Close()
		p.Close()
	}
	if _, err := yuv.FromBGR(gocv.Mat{}); err == nil {
		t.Error("an empty Mat converted")
	}
	if _, err := (yuv.Picture{}).BGR(); err == nil {
		t.Error("an empty picture converted")
	}
}

func flat(t *testing.T, w, h int, c yuv.Color) yuv.Picture {
	t.Helper()
	p, err := yuv.New(w, h)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := p.Planes()
	for i := range pl.Y {
		pl.Y[i] = c.Y
	}
	for i := range pl.U {
		pl.U[i], pl.V[i] = c.U, c.V
	}
	return p
}

func absd(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}
