package detect_test

import (
	"os"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// vtestPath is OpenCV's pedestrian clip (768x576), from Debian's opencv-doc.
const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func rect(x0, y0, x1, y1 float64) zones.Polygon {
	return zones.Polygon{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// floorSet has one monitored zone, "floor", signed until expires, plus extra zones.
func floorSet(floor zones.Polygon, expires time.Time, extra ...zones.Zone) *zones.Set {
	zs := append([]zones.Zone{{ID: "floor", Kind: zones.Monitored, Polygon: floor, Signage: "sign-1"}}, extra...)
	return zones.NewSet(zs, map[string]zones.Sign{"sign-1": {
		ID: "sign-1", Purpose: "footfall counting", VerifiedAt: t0.Add(-24 * time.Hour), ExpiresAt: expires,
	}})
}

// readVtest returns n frames of vtest.avi, one every step frames. The caller closes them.
func readVtest(tb testing.TB, n, step int) []gocv.Mat {
	tb.Helper()
	if _, err := os.Stat(vtestPath); err != nil {
		tb.Fatalf("test video missing (install Debian package opencv-doc): %v", err)
	}
	vc, err := gocv.VideoCaptureFile(vtestPath)
	if err != nil {
		tb.Fatalf("open %s: %v", vtestPath, err)
	}
	defer vc.Close()
	buf := gocv.NewMat()
	defer buf.Close()
	var out []gocv.Mat
	for i := 0; len(out) < n && i < n*step+step; i++ {
		if !vc.Read(&buf) || buf.Empty() {
			break
		}
		if i%step == 0 {
			out = append(out, buf.Clone())
		}
	}
	if len(out) < n {
		for _, m := range out {
			m.Close()
		}
		tb.Fatalf("read %d frames of %s, want %d", len(out), vtestPath, n)
	}
	return out
}

// masked puts mats through the mask stage of set; it takes ownership of mats.
func masked(tb testing.TB, set *zones.Set, mats []gocv.Mat) []*mask.Frame {
	tb.Helper()
	ms, err := mask.New(mask.Config{Zones: set})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*mask.Frame
	for i, m := range mats {
		f, err := ms.Apply(decode.Frame{Pic: toYUV(tb, m), Seq: uint64(i), Received: t0})
		if err != nil {
			for _, g := range out {
				g.Close()
			}
			for _, r := range mats[i+1:] {
				r.Close()
			}
			tb.Fatalf("mask frame %d: %v", i, err)
		}
		out = append(out, f)
	}
	return out
}

// fullbody is Debian opencv-data's full-body cascade.
const fullbody = "/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml"

// bgr returns a w x h BGR picture of a gradient; the caller closes it.
func bgr(w, h int) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	if data, err := m.DataPtrUint8(); err == nil {
		for i := range data {
			data[i] = byte(i * 7)
		}
	}
	return m
}

// toYUV converts a BGR test picture to the planes decode hands out, and
// closes it.
func toYUV(tb testing.TB, m gocv.Mat) yuv.Picture {
	tb.Helper()
	p, err := yuv.FromBGR(m)
	m.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
