package privacycheck_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/privacycheck"
)

// synthetic: a 160x120 frame, a zone x 40..119 y 30..89 (0.25..0.75), a
// bright textured scene outside and a black fill inside; edit changes it.
func synthetic(edit func(f []byte, x, y int) []byte) ([]byte, *privacycheck.Geometry) {
	const w, h = 160, 120
	g := privacycheck.NewGeometry([]privacycheck.Polygon{{{0.25, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.25, 0.75}}}, w, h)
	f := make([]byte, w*h*3)
	for y := range h {
		for x := range w {
			o := (y*w + x) * 3
			v := byte(120 + (x*13+y*7)%100)
			f[o], f[o+1], f[o+2] = v, v, v
		}
	}
	for _, i := range g.Zones[0].Pixels.Idx {
		f[3*i], f[3*i+1], f[3*i+2] = 0, 0, 0
	}
	if edit != nil {
		for _, i := range g.Zones[0].Pixels.Idx {
			x, y := int(i)%w, int(i)/w
			copy(f[3*i:3*i+3], edit(f[3*i:3*i+3], x, y))
		}
	}
	return f, g
}

func TestGeometry(t *testing.T) {
	_, g := synthetic(nil)
	z := g.Zones[0]
	// Pixels touching the polygon: x 39..120, y 29..90 (82 x 62).
	if len(z.Pixels.Idx) != 82*62 {
		t.Fatalf("%d zone pixels, want %d", len(z.Pixels.Idx), 82*62)
	}
	// Core: at least CoreDepth inside on every side.
	d := privacycheck.CoreDepth
	if want := (82 - 2*d) * (62 - 2*d); z.Core != want {
		t.Errorf("core %d pixels, want %d", z.Core, want)
	}
}

func TestContent(t *testing.T) {
	scene := func(x, y int) byte { return byte(120 + (x*13+y*7)%100) }
	cases := []struct {
		name string
		edit func(p []byte, x, y int) []byte
		leak bool
	}{
		{"honest fill", nil, false},
		{"fill shifted 3 levels by a codec", func(p []byte, x, y int) []byte { return []byte{3, 3, 3} }, false},
		{"ringing: border row at 10% of the outside contrast", func(p []byte, x, y int) []byte {
			if x == 39 || x == 120 || y == 29 || y == 90 {
				v := scene(x, y) / 10
				return []byte{v, v, v}
			}
			return p
		}, false},
		{"1 px leak along the left edge", func(p []byte, x, y int) []byte {
			if x == 39 {
				v := scene(x, y)
				return []byte{v, v, v}
			}
			return p
		}, true},
		{"2 px leak at 60% (lossy smear of the scene)", func(p []byte, x, y int) []byte {
			if x >= 119 {
				v := byte(int(scene(x, y)) * 6 / 10)
				return []byte{v, v, v}
			}
			return p
		}, true},
		{"semi-opaque 0.99 over a person on a plain wall", func(p []byte, x, y int) []byte {
			// 1% of a wall at 200 is 2 levels; of a dark coat at 60, 0.6.
			if x >= 60 && x < 80 && y >= 45 && y < 75 {
				return []byte{1, 1, 1}
			}
			return []byte{2, 2, 2}
		}, true},
		{"unmasked flat grey", func(p []byte, x, y int) []byte { return []byte{128, 128, 128} }, true},
		{"8 isolated ringing pixels in the core", func(p []byte, x, y int) []byte {
			if y == 60 && x >= 60 && x < 68 {
				return []byte{6, 6, 6}
			}
			return p
		}, false},
		{"a 5x5 picture patch in the core", func(p []byte, x, y int) []byte {
			if y >= 58 && y < 63 && x >= 70 && x < 75 {
				return []byte{9, 9, 9}
			}
			return p
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, g := synthetic(tc.edit)
			r, err := g.Content(0, f, nil, [3]uint8{})
			if err != nil {
				t.Fatal(err)
			}
			if (r.Leaked > 0) != tc.leak {
				t.Fatalf("leaked %d (spatial %d, hard %d, below %d, noise %.1f, fill %v), want leak=%v", r.Leaked, r.Spatial, r.Hard, r.Below, r.Noise, r.Fill, tc.leak)
			}
			if r.Checked != 82*62 {
				t.Errorf("checked %d", r.Checked)
			}
		})
	}
}

func TestContentTemporal(t *testing.T) {
	// A faint figure (2 levels) moves across the core: where it was, the
	// fill is back, flat, and only the change from the previous frame shows.
	figure := func(x0 int) func(p []byte, x, y int) []byte {
		return func(p []byte, x, y int) []byte {
			if x >= x0 && x < x0+10 && y >= 45 && y < 75 {
				return []byte{2, 2, 2}
			}
			return p
		}
	}
	prev, g := synthetic(figure(55))
	cur, _ := synthetic(figure(75))
	r, err := g.Content(0, cur, prev, [3]uint8{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Temporal == 0 || r.Leaked == 0 {
		t.Fatalf("temporal %d, leaked %d: a moving faint figure must leak", r.Temporal, r.Leaked)
	}
	if _, err := g.Content(0, cur[:10], nil, [3]uint8{}); err == nil {
		t.Error("a short picture was accepted")
	}
}
