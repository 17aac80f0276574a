package detect_test

import (
	"encoding/binary"
	"image"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// decodeCropFuzz reads a frame size and a monitored zone: bytes 0..1 and
// 2..3 are width-1 and height-1 (little-endian, below 2048), byte 4 picks
// detect.width (64 + 8*b) and, by its lowest bit, a grey or a BGR crop
// for the direct Crop call, the rest are uint16 pairs scaled to 0..1, the
// zone's points (at most 64).
func decodeCropFuzz(data []byte) (w, h, width int, grey bool, poly zones.Polygon) {
	if len(data) < 5 {
		return 1, 1, 640, true, nil
	}
	w = 1 + int(binary.LittleEndian.Uint16(data)%2048)
	h = 1 + int(binary.LittleEndian.Uint16(data[2:])%2048)
	width = 64 + 8*int(data[4])
	grey = data[4]&1 == 0
	data = data[5:]
	for len(data) >= 4 && len(poly) < 64 {
		poly = append(poly, zones.Point{
			X: float64(binary.LittleEndian.Uint16(data)) / math.MaxUint16,
			Y: float64(binary.LittleEndian.Uint16(data[2:])) / math.MaxUint16,
		})
		data = data[4:]
	}
	return w, h, width, grey, poly
}

// FuzzDetectCrop drives the crop path of the detection stage, with the real
// HOG detector behind it, over frame sizes and zone polygons: it must never
// crash nor fail, and every box must lie inside the analysed area. The
// seeds (testdata/fuzz/FuzzDetectCrop) hold the sizes and zones that
// crashed OpenCV before (150x60 on 768x576, 3x3, 16x16, 33x17, 1280x1,
// 100x1000) and run with every `go test`.
func FuzzDetectCrop(f *testing.F) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hog, err := detect.NewHOG()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { hog.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, width, grey, poly := decodeCropFuzz(data)
		if poly.Validate() != nil {
			return // config validation refuses it before any frame
		}
		set := floorSet(poly, t0.Add(1e12))
		ms, err := mask.New(mask.Config{Zones: set, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		st, err := detect.New(detect.Config{Zones: set, Width: width, Logger: quiet, Clock: clock.Live(func() time.Time { return t0 }), Detector: shared{hog}})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		fr, err := ms.Apply(decode.Frame{Pic: toYUV(t, bgr(w, h)), Received: t0})
		if err != nil {
			t.Fatalf("%dx%d: mask: %v", w, h, err)
		}
		defer fr.Close()
		res, err := st.Process(fr)
		if err != nil {
			t.Fatalf("%dx%d zone %v: %v", w, h, poly, err)
		}
		am := set.AnalysisMask(w, h, t0)
		x0, y0, x1, y1 := am.Bounds()
		for _, b := range res.Boxes {
			if !b.Rect.In(image.Rect(x0, y0, x1, y1)) {
				t.Fatalf("%dx%d: box %v outside the analysed area", w, h, b.Rect)
			}
		}
		// The crop itself, for any width the config allows.
		want := gocv.MatTypeCV8UC3
		if grey {
			want = gocv.MatTypeCV8UC1
		}
		if img, p, ok, err := detect.Crop(fr, am, width, 1, grey); err != nil {
			t.Fatalf("%dx%d: crop: %v", w, h, err)
		} else if ok {
			if img.Cols() != p.Size.X || img.Rows() != p.Size.Y || img.Type() != want {
				t.Errorf("crop %dx%d type %v, planned %v", img.Cols(), img.Rows(), img.Type(), p.Size)
			}
			img.Close()
		}
	})
}

// shared lends the fuzz target's one HOG to each stage without closing it.
type shared struct{ detect.Detector }

func (shared) Close() error { return nil }
