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

// TestCropGrayIsTheGreyOfBGR: the luma crop a brightness detector gets is
// the grey it would get by converting the crop to BGR and then to grey (the
// picture HOG was tuned on), to within rounding, on a real frame; it is
// the crop's size, continuous, and refuses a crop outside the picture.
func TestCropGrayIsTheGreyOfBGR(t *testing.T) {
	vc, err := gocv.VideoCaptureFile("../../testvideos/vtest.mp4")
	if err != nil {
		t.Fatal(err)
	}
	src := gocv.NewMat()
	defer src.Close()
	for range 30 { // a frame with people in it
		if !vc.Read(&src) {
			t.Fatal("vtest.mp4: too few frames")
		}
	}
	vc.Close()
	p, err := yuv.FromBGR(src)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, rect := range []image.Rectangle{image.Rect(0, 0, 768, 576), image.Rect(101, 33, 400, 300), image.Rect(767, 575, 900, 900)} {
		grey, err := p.CropGray(rect)
		if err != nil {
			t.Fatal(err)
		}
		bgr, err := p.CropBGR(rect)
		if err != nil {
			t.Fatal(err)
		}
		ref := gocv.NewMat()
		gocv.CvtColor(bgr, &ref, gocv.ColorBGRToGray)
		want := rect.Intersect(image.Rect(0, 0, 768, 576))
		if grey.Cols() != want.Dx() || grey.Rows() != want.Dy() || grey.Type() != gocv.MatTypeCV8UC1 || !grey.IsContinuous() {
			t.Fatalf("crop %v: %dx%d type %v continuous %v", rect, grey.Cols(), grey.Rows(), grey.Type(), grey.IsContinuous())
		}
		g, _ := grey.DataPtrUint8()
		r, _ := ref.DataPtrUint8()
		var sum, far, signed int
		for i := range g {
			d := int(absd(g[i], r[i]))
			sum += d
			signed += int(g[i]) - int(r[i])
			if d > 3 {
				far++
			}
		}
		// swscale's fast BGR conversion lands about one level darker than the
		// exact BT.601 mapping CropGray uses (measured: 1.1..1.2 on vtest).
		if mean := float64(sum) / float64(len(g)); mean > 1.5 || far*100 > len(g) {
			t.Errorf("crop %v: grey differs from BGR's grey by %.2f on average (signed %.2f), by more than 3 at %d of %d pixels", rect, mean, float64(signed)/float64(len(g)), far, len(g))
		}
		ref.Close()
		bgr.Close()
		grey.Close()
	}
	if m, err := p.CropGray(image.Rect(800, 0, 900, 10)); err == nil {
		m.Close()
		t.Error("a crop outside the picture was copied")
	}
	if _, err := (yuv.Picture{}).CropGray(image.Rect(0, 0, 1, 1)); err == nil {
		t.Error("an empty picture was copied")
	}
}
