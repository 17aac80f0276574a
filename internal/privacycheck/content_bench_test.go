package privacycheck_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/privacycheck"
)

// BenchmarkContent judges a 720p frame whose zone (a quarter of the
// picture) is an honest black fill beside a textured scene.
func BenchmarkContent(b *testing.B) {
	const w, h = 1280, 720
	poly := privacycheck.Polygon{{0.4, 0.25}, {0.9, 0.25}, {0.9, 0.6}, {0.4, 0.6}}
	g := privacycheck.NewGeometry([]privacycheck.Polygon{poly}, w, h)
	frame := make([]byte, w*h*3)
	for i := range frame {
		frame[i] = byte(i * 7 % 251)
	}
	for _, i := range g.Zones[0].Pixels.Idx {
		frame[3*i], frame[3*i+1], frame[3*i+2] = 0, 0, 0
	}
	prev := append([]byte(nil), frame...)
	b.ReportAllocs()
	for b.Loop() {
		r, err := g.Content(0, frame, prev, [3]uint8{})
		if err != nil || r.Leaked != 0 {
			b.Fatalf("%+v %v", r.Leaked, err)
		}
	}
}
