package zones_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

// decodeFuzz turns bytes into polygon input and a frame size. Byte 0 picks
// the encoding: bit 0 set reads raw float64s (NaN, Inf, out of range), clear
// reads uint16s scaled to 0..1 (mostly valid polygons); bit 1 set gives the
// last point a third number. Bytes 1 and 2 are width-1 and height-1.
func decodeFuzz(data []byte) (pts [][]float64, w, h int) {
	if len(data) < 3 {
		return nil, 1, 1
	}
	mode := data[0]
	w, h = 1+int(data[1]), 1+int(data[2])
	data = data[3:]
	var nums []float64
	if mode&1 != 0 {
		for len(data) >= 8 && len(nums) < 64 {
			nums = append(nums, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
	} else {
		for len(data) >= 2 && len(nums) < 64 {
			nums = append(nums, float64(binary.LittleEndian.Uint16(data))/math.MaxUint16)
			data = data[2:]
		}
	}
	for i := 0; i+1 < len(nums); i += 2 {
		pts = append(pts, []float64{nums[i], nums[i+1]})
	}
	if mode&2 != 0 && len(pts) > 0 {
		pts[len(pts)-1] = append(pts[len(pts)-1], 0.5)
	}
	return pts, w, h
}

func FuzzParseRasterize(f *testing.F) {
	f.Add([]byte{0, 9, 9, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		in, w, h := decodeFuzz(data)
		p, err := zones.ParsePolygon(in)
		if err != nil {
			for _, s := range []error{zones.ErrBadPoint, zones.ErrTooFewPoints, zones.ErrOutOfRange, zones.ErrZeroArea, zones.ErrSelfIntersect} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("ParsePolygon error %v wraps no sentinel", err)
		}
		m := zones.Rasterize([]zones.Polygon{p}, w, h)
		checkSpans(t, m)
		if m.W != w || m.H != h {
			t.Fatalf("mask is %dx%d, want %dx%d", m.W, m.H, w, h)
		}
		for i, v := range p {
			x := min(w-1, int(v.X*float64(w)))
			y := min(h-1, int(v.Y*float64(h)))
			if !m.Contains(x, y) {
				t.Fatalf("vertex %d %v: its pixel %d,%d is not masked", i, v, x, y)
			}
			if !p.Contains(v) {
				t.Fatalf("polygon does not contain its own vertex %d %v", i, v)
			}
		}
		// Small cases are cheap to check against the reference, pixel by pixel.
		if w*h <= 4096 {
			for y := range h {
				for x := range w {
					pix := rectN{float64(x) / float64(w), float64(y) / float64(h), float64(x+1) / float64(w), float64(y+1) / float64(h)}
					if refIntersects(p, pix) && !m.Contains(x, y) {
						t.Fatalf("pixel %d,%d of %dx%d touches %v but is not masked", x, y, w, h, p)
					}
				}
			}
		}
	})
}
