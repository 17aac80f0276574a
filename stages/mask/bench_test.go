package mask_test

import (
	"fmt"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/stages/mask"
)

// BenchmarkPaint measures masking one frame (the raster is cached per size, as in production).
func BenchmarkPaint(b *testing.B) {
	for _, sz := range []struct{ w, h int }{{1280, 720}, {1920, 1080}} {
		for _, c := range []struct {
			name  string
			color [3]uint8
		}{{"black", [3]uint8{}}, {"grey", [3]uint8{128, 128, 128}}} {
			b.Run(fmt.Sprintf("%dp/%s", sz.h, c.name), func(b *testing.B) {
				s := set(privacy)
				m := gocv.NewMatWithSize(sz.h, sz.w, gocv.MatTypeCV8UC3)
				defer m.Close()
				if err := mask.Paint(m, s, c.color); err != nil { // warm the raster cache
					b.Fatal(err)
				}
				b.SetBytes(int64(sz.w * sz.h * 3))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := mask.Paint(m, s, c.color); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/frame")
			})
		}
	}
}
