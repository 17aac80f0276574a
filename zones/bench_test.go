package zones_test

import (
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

// realistic: a doorway, a window, a non-convex reception desk area and a
// large floor trapezoid, as an operator would draw them on a lobby camera.
var realistic = []zones.Polygon{
	poly(0.42, 0.08, 0.55, 0.08, 0.55, 0.62, 0.42, 0.6),
	poly(0.05, 0.1, 0.25, 0.12, 0.24, 0.35, 0.06, 0.33),
	poly(0.6, 0.4, 0.9, 0.42, 0.92, 0.7, 0.8, 0.7, 0.78, 0.55, 0.66, 0.56, 0.64, 0.72, 0.58, 0.7),
	poly(0.1, 0.65, 0.9, 0.6, 1, 1, 0, 1),
}

func BenchmarkRasterize1080p(b *testing.B) {
	for i, p := range realistic {
		if err := p.Validate(); err != nil {
			b.Fatalf("polygon %d: %v", i, err)
		}
	}
	b.ReportAllocs()
	var m *zones.Mask
	for b.Loop() {
		m = zones.Rasterize(realistic, 1920, 1080)
	}
	b.ReportMetric(float64(m.Count())/(1920*1080), "coverage")
}

func BenchmarkMaskCacheGet1080p(b *testing.B) {
	c := zones.NewMaskCache(realistic)
	c.Get(1920, 1080)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.Get(1920, 1080) == nil {
				b.Fatal("nil mask")
			}
		}
	})
}
