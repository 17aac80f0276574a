package privacycheck_test

import (
	"fmt"
	"image"
	"testing"

	"github.com/edgeprivacy/edge/internal/privacycheck"
)

func TestRegion(t *testing.T) {
	cases := []struct {
		name  string
		poly  privacycheck.Polygon
		w, h  int
		want  int
		inPx  []image.Point
		outPx []image.Point
	}{
		// A square on pixel boundaries [2,6) x [1,3) of a 10x10 frame: its closed edges
		// touch the ring of neighbours too, so 6x4 pixels.
		{"aligned square", privacycheck.Polygon{{0.2, 0.1}, {0.6, 0.1}, {0.6, 0.3}, {0.2, 0.3}}, 10, 10, 6 * 4,
			[]image.Point{{2, 1}, {5, 2}, {1, 0}, {6, 3}}, []image.Point{{0, 0}, {7, 1}, {3, 4}}},
		// A triangle strictly inside one pixel still masks that pixel.
		{"speck", privacycheck.Polygon{{0.51, 0.51}, {0.52, 0.51}, {0.51, 0.52}}, 10, 10, 1,
			[]image.Point{{5, 5}}, []image.Point{{4, 5}, {6, 5}}},
		// A thin diagonal sliver touches the pixels along the diagonal.
		{"sliver", privacycheck.Polygon{{0, 0}, {1, 1}, {0.999, 1}}, 4, 4, -1,
			[]image.Point{{0, 0}, {1, 1}, {2, 2}, {3, 3}}, []image.Point{{3, 0}, {0, 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			px := privacycheck.Region([]privacycheck.Polygon{tc.poly}, tc.w, tc.h)
			if tc.want >= 0 && len(px.Idx) != tc.want {
				t.Errorf("region has %d pixels, want %d", len(px.Idx), tc.want)
			}
			set := map[int32]bool{}
			for _, i := range px.Idx {
				set[i] = true
			}
			for _, p := range tc.inPx {
				if !set[int32(p.Y*tc.w+p.X)] {
					t.Errorf("pixel %v missing", p)
				}
			}
			for _, p := range tc.outPx {
				if set[int32(p.Y*tc.w+p.X)] {
					t.Errorf("pixel %v should not be private", p)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	const w, h = 8, 4
	px := privacycheck.Region([]privacycheck.Polygon{{{0, 0}, {0.5, 0}, {0.5, 1}, {0, 1}}}, w, h)
	img := make([]byte, w*h*3)
	for i := range img {
		img[i] = 200
	}
	for _, i := range px.Idx {
		copy(img[int(i)*3:], []byte{10, 20, 30})
	}
	fill := [3]uint8{10, 20, 30}
	if r, err := privacycheck.Check(img, px, fill, 0); err != nil || r.Leaked != 0 || r.Checked != len(px.Idx) {
		t.Fatalf("filled picture: %+v, %v", r, err)
	}
	img[(2*w+1)*3+1] = 25 // one channel of pixel (1, 2) off by 5
	if r, _ := privacycheck.Check(img, px, fill, 0); r.Leaked != 1 || r.First != image.Pt(1, 2) {
		t.Fatalf("want one leak at (1,2), got %+v", r)
	}
	if r, _ := privacycheck.Check(img, px, fill, 5); r.Leaked != 0 {
		t.Fatalf("tolerance 5 should accept it, got %+v", r)
	}
	if _, err := privacycheck.Check(img[:10], px, fill, 0); err == nil {
		t.Fatal("short picture accepted")
	}
}

func TestInterior(t *testing.T) {
	// A 10x6 frame whose left half is private: 6 columns, since the pixel
	// whose left edge lies on x = 0.5 touches the polygon.
	px := privacycheck.Region([]privacycheck.Polygon{{{0, 0}, {0.5, 0}, {0.5, 1}, {0, 1}}}, 10, 6)
	cases := []struct {
		k, want int
	}{
		{0, 36}, // 6 columns x 6 rows
		{1, 30}, // the column at the border goes; the frame edge does not count
		{2, 24},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.k), func(t *testing.T) {
			if got := len(privacycheck.Interior(px, tc.k).Idx); got != tc.want {
				t.Fatalf("Interior(k=%d) has %d pixels, want %d", tc.k, got, tc.want)
			}
		})
	}
}
