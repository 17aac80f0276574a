package detect_test

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// recorder is a fake Detector that keeps a copy of every picture it is given
// and answers with fixed boxes.
type recorder struct {
	input  detect.Input // what it asks for: BGR by default
	mu     sync.Mutex
	seen   []gocv.Mat
	boxes  func(img gocv.Mat) []detect.Box
	closed int
}

func (r *recorder) Detect(img gocv.Mat) ([]detect.Box, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, img.Clone())
	if r.boxes == nil {
		return nil, nil
	}
	return r.boxes(img), nil
}

func (r *recorder) Window() image.Point { return image.Pt(1, 1) }

func (r *recorder) Input() detect.Input { return r.input }

func (r *recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	for _, m := range r.seen {
		m.Close()
	}
	r.seen = nil
	return nil
}

// runStage feeds frames through a detection stage and returns its results.
func runStage(t *testing.T, cfg detect.Config, frames []*mask.Frame) ([]detect.Result, *detect.Stage) {
	t.Helper()
	st, err := detect.New(cfg)
	if err != nil {
		for _, f := range frames {
			f.Close()
		}
		t.Fatal(err)
	}
	in := make(chan *mask.Frame, len(frames))
	out := make(chan detect.Result, 1)
	for _, f := range frames {
		in <- f
	}
	close(in)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- st.Run(ctx, in, out) }()
	var res []detect.Result
	for r := range out {
		res = append(res, r)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("stage timed out")
	}
	return res, st
}

func TestHOGFindsPeopleInVtest(t *testing.T) {
	// The floor: everything below the top fifth, minus a privacy strip on the left.
	floor := rect(0.1, 0.2, 1, 1)
	privacy := zones.Zone{ID: "door", Kind: zones.Privacy, Polygon: rect(0, 0, 0.2, 0.5)}
	set := floorSet(floor, t0.Add(time.Hour), privacy)
	const n = 20
	frames := masked(t, set, readVtest(t, n, 20))
	res, st := runStage(t, detect.Config{Zones: set, Width: 640, Clock: clock.Live(func() time.Time { return t0 })}, frames)
	if len(res) != n {
		t.Fatalf("got %d results for %d frames", len(res), n)
	}
	am := set.AnalysisMask(768, 576, t0)
	x0, y0, x1, y1 := am.Bounds()
	bounds := image.Rect(x0, y0, x1, y1)
	withBox := 0
	for i, r := range res {
		if r.Seq != uint64(i) || r.Size != image.Pt(768, 576) || !r.At.Equal(t0) {
			t.Errorf("result %d: seq %d size %v at %v", i, r.Seq, r.Size, r.At)
		}
		if !slices.Equal(r.Active, []string{"floor"}) {
			t.Errorf("result %d: active %v, want [floor]", i, r.Active)
		}
		if len(r.Boxes) > 0 {
			withBox++
		}
		for _, b := range r.Boxes {
			if !b.Rect.In(bounds) || b.Rect.Empty() {
				t.Errorf("result %d: box %v outside the analysed region %v", i, b.Rect, bounds)
			}
		}
	}
	s := st.Stats()
	t.Logf("%d of %d frames have a person; %d boxes; mean detect %v", withBox, n, s.Detections, s.MeanDetect)
	// Measured: 20 of 20 frames with boxes (HOG, 640 wide). The bound leaves
	// room for OpenCV builds that differ slightly.
	if withBox < 15 {
		t.Errorf("HOG found people in %d of %d frames, want at least 15", withBox, n)
	}
	if s.Frames != n || s.Analysed != n || s.MeanDetect <= 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestSignageGatesDetection(t *testing.T) {
	tests := []struct {
		name       string
		set        *zones.Set
		wantActive []string
		wantCalls  int
	}{
		{"valid sign", floorSet(rect(0, 0, 1, 1), t0.Add(time.Hour)), []string{"floor"}, 3},
		{"expired sign", floorSet(rect(0, 0, 1, 1), t0.Add(-time.Minute)), nil, 0},
		{"sign expiring at the frame", floorSet(rect(0, 0, 1, 1), t0), nil, 0},
		{"missing sign", zones.NewSet([]zones.Zone{{ID: "floor", Kind: zones.Monitored, Polygon: rect(0, 0, 1, 1), Signage: "nope"}}, nil), nil, 0},
		{"zone wholly private", floorSet(rect(0.2, 0.2, 0.4, 0.4), t0.Add(time.Hour),
			zones.Zone{ID: "wc", Kind: zones.Privacy, Polygon: rect(0.1, 0.1, 0.5, 0.5)}), nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{boxes: func(img gocv.Mat) []detect.Box {
				return []detect.Box{{Rect: image.Rect(0, 0, img.Cols(), img.Rows()), Score: 1}}
			}}
			frames := masked(t, tc.set, readVtest(t, 3, 1))
			res, _ := runStage(t, detect.Config{Zones: tc.set, Detector: rec, Width: 640, Clock: clock.Live(func() time.Time { return t0 })}, frames)
			if len(res) != 3 {
				t.Fatalf("got %d results, want one per frame (3)", len(res))
			}
			for _, r := range res {
				if !slices.Equal(r.Active, tc.wantActive) {
					t.Errorf("seq %d: active %v, want %v", r.Seq, r.Active, tc.wantActive)
				}
				if tc.wantActive == nil && len(r.Boxes) != 0 {
					t.Errorf("seq %d: %d boxes with nothing analysable", r.Seq, len(r.Boxes))
				}
			}
			if rec.closed != 1 {
				t.Errorf("detector closed %d times, want 1", rec.closed)
			}
		})
	}
}

func TestExpiredSignWithHOG(t *testing.T) {
	set := floorSet(rect(0, 0.2, 1, 1), t0.Add(-time.Second))
	frames := masked(t, set, readVtest(t, 4, 25))
	res, st := runStage(t, detect.Config{Zones: set, Width: 640, Clock: clock.Live(func() time.Time { return t0 })}, frames)
	for _, r := range res {
		if len(r.Boxes) != 0 || len(r.Active) != 0 {
			t.Errorf("seq %d: %d boxes, active %v; want none with an expired sign", r.Seq, len(r.Boxes), r.Active)
		}
	}
	if s := st.Stats(); len(res) != 4 || s.Analysed != 0 {
		t.Errorf("%d results, stats %+v; want 4 results and nothing analysed", len(res), s)
	}
}

// TestDetectorSeesOnlyAnalysedPixels checks the crop given to the detector,
// BGR or grey as it asks: the analysis mask's bounding box, every pixel
// outside the mask Grey, and boxes mapped back to frame coordinates.
func TestDetectorSeesOnlyAnalysedPixels(t *testing.T) {
	const w, h = 400, 200
	color := gocv.NewScalar(10, 200, 30, 0) // B, G, R
	// An L-shaped monitored zone with a privacy hole inside it.
	lshape := zones.Polygon{{X: 0.1, Y: 0.1}, {X: 0.9, Y: 0.1}, {X: 0.9, Y: 0.3}, {X: 0.4, Y: 0.3}, {X: 0.4, Y: 0.9}, {X: 0.1, Y: 0.9}}
	set := floorSet(lshape, t0.Add(time.Hour),
		zones.Zone{ID: "hole", Kind: zones.Privacy, Polygon: rect(0.15, 0.4, 0.3, 0.6)})
	am := set.AnalysisMask(w, h, t0)
	x0, y0, x1, y1 := am.Bounds()
	bounds := image.Rect(x0, y0, x1, y1)

	tests := []struct {
		name     string
		input    detect.Input
		width    int
		wantSize image.Point
	}{
		{"unscaled", detect.InputBGR, 640, bounds.Size()},
		{"scaled down", detect.InputBGR, 160, image.Pt(160, (bounds.Dy()*160+bounds.Dx()/2)/bounds.Dx())},
		{"grey unscaled", detect.InputGrey, 640, bounds.Size()},
		{"grey scaled down", detect.InputGrey, 160, image.Pt(160, (bounds.Dy()*160+bounds.Dx()/2)/bounds.Dx())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got gocv.Mat
			rec := &recorder{input: tc.input, boxes: func(img gocv.Mat) []detect.Box {
				got = img.Clone()
				return []detect.Box{{Rect: image.Rect(0, 0, img.Cols(), img.Rows()), Score: 0.9}, {Rect: image.Rect(0, 0, 1, 1), Score: 0.1}}
			}}
			defer func() { got.Close() }()
			m := gocv.NewMatWithSizeFromScalar(color, h, w, gocv.MatTypeCV8UC3)
			shown := roundTrip(t, m, tc.input) // the colour after YUV 4:2:0 and back
			ch, grey := 3, []byte{detect.Grey, detect.Grey, detect.Grey}
			if tc.input == detect.InputGrey {
				ch, grey = 1, grey[:1]
			}
			frames := masked(t, set, []gocv.Mat{m})
			res, _ := runStage(t, detect.Config{Zones: set, Detector: rec, Width: tc.width, MinScore: 0.5,
				Clock: clock.Live(func() time.Time { return t0 })}, frames)
			if got.Empty() {
				t.Fatal("detector was not called")
			}
			if sz := image.Pt(got.Cols(), got.Rows()); sz != tc.wantSize || got.Channels() != ch {
				t.Fatalf("detector got %v picture of %d channels, want %v of %d", sz, got.Channels(), tc.wantSize, ch)
			}
			if len(res) != 1 || len(res[0].Boxes) != 1 {
				t.Fatalf("results %+v, want one result with one box (the low-score one dropped)", res)
			}
			if b := res[0].Boxes[0].Rect; b != bounds {
				t.Errorf("whole-crop box mapped to %v, want the analysis bounds %v", b, bounds)
			}
			if tc.width < bounds.Dx() {
				return // scaled pixels blend at the mask edge; checked unscaled
			}
			data, err := got.DataPtrUint8()
			if err != nil {
				t.Fatal(err)
			}
			inside, outside := 0, 0
			for y := 0; y < got.Rows(); y++ {
				for x := 0; x < got.Cols(); x++ {
					px := data[(y*got.Cols()+x)*ch : (y*got.Cols()+x)*ch+ch]
					want := grey
					if am.Contains(x0+x, y0+y) {
						want = shown
						inside++
						if ch == 3 && sharesChroma(set.PrivacyMask(w, h), x0+x, y0+y) {
							continue // its colour is the fill's (conservative chroma); its luma is the picture's
						}
					} else {
						outside++
					}
					if !slices.Equal(px, want) {
						t.Fatalf("crop pixel (%d,%d) = %v, want %v", x, y, px, want)
					}
				}
			}
			if inside == 0 || outside == 0 {
				t.Fatalf("degenerate test: %d inside, %d outside", inside, outside)
			}
		})
	}
}

// sharesChroma says whether pixel (x, y) shares its 4:2:0 chroma sample
// with a private pixel: masking fills that sample, so the pixel keeps only
// its brightness.
func sharesChroma(priv *zones.Mask, x, y int) bool {
	for dy := range 2 {
		for dx := range 2 {
			if priv.Contains(x&^1+dx, y&^1+dy) {
				return true
			}
		}
	}
	return false
}

// roundTrip is pixel (0, 0) of m after conversion to the planes frames
// travel in and back to BGR, or to grey.
func roundTrip(t *testing.T, m gocv.Mat, in detect.Input) []byte {
	t.Helper()
	p, err := yuv.FromBGR(m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if in == detect.InputGrey {
		g, err := p.CropGray(image.Rect(0, 0, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		return []byte{g.GetUCharAt(0, 0)}
	}
	b, err := p.BGR()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v := b.GetVecbAt(0, 0)
	return []byte{v[0], v[1], v[2]}
}

func TestCropEmptyMask(t *testing.T) {
	m := masked(t, zones.NewSet(nil, nil), []gocv.Mat{gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC3)})[0]
	defer m.Close()
	img, _, ok, err := detect.Crop(m, zones.Rasterize(nil, 10, 10), 640, 1, false)
	if err != nil || ok {
		img.Close()
		t.Fatalf("empty mask: ok=%v err=%v, want nothing to crop", ok, err)
	}
	if _, _, _, err := detect.Crop(m, zones.Rasterize(nil, 20, 10), 640, 1, false); err == nil {
		t.Fatal("mask of another size accepted")
	}
}

func TestNewDetector(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.caffemodel")
	if err := os.WriteFile(junk, []byte("not a network"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     detect.Config
		wantErr error  // nil: must build
		wantMsg string // part of the error
	}{
		{"default is hog", detect.Config{Width: 640}, nil, ""},
		{"hog", detect.Config{Kind: "hog", Width: 640}, nil, ""},
		{"haar fullbody", detect.Config{Kind: "haar", Model: "/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml", Width: 640}, nil, ""},
		{"haar missing", detect.Config{Kind: "haar", Model: filepath.Join(dir, "none.xml"), Width: 640}, detect.ErrModel, "none.xml"},
		{"haar not a cascade", detect.Config{Kind: "haar", Model: junk, Width: 640}, detect.ErrModel, "cascade XML"},
		{"dnn no model", detect.Config{Kind: "dnn", Width: 640}, detect.ErrModel, "detect.model"},
		{"dnn model missing", detect.Config{Kind: "dnn", Model: filepath.Join(dir, "MobileNetSSD_deploy.caffemodel"), Width: 640}, detect.ErrModel, "MobileNetSSD_deploy.caffemodel"},
		{"dnn config missing", detect.Config{Kind: "dnn", Model: junk, ModelConfig: filepath.Join(dir, "deploy.prototxt"), Width: 640}, detect.ErrModel, "deploy.prototxt"},
		{"dnn unreadable", detect.Config{Kind: "dnn", Model: junk, Width: 640}, detect.ErrModel, "cannot read network"},
		{"unknown kind", detect.Config{Kind: "face", Width: 640}, nil, "unknown detector kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := detect.NewDetector(tc.cfg)
			if tc.wantErr == nil && tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 160, 96, gocv.MatTypeCV8UC3)
				defer m.Close()
				if _, err := d.Detect(m); err != nil {
					t.Errorf("Detect on a flat picture: %v", err)
				}
				if err := d.Close(); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil {
				d.Close()
				t.Fatal("built a detector, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

func BenchmarkHOGDetect(b *testing.B) {
	f := masked(b, zones.NewSet(nil, nil), readVtest(b, 1, 1))[0]
	defer f.Close()
	am := zones.Rasterize([]zones.Polygon{rect(0, 0, 1, 1)}, f.Size().X, f.Size().Y)
	img, _, _, err := detect.Crop(f, am, 640, 1, true) // grey, as the stage gives HOG
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	d, err := detect.NewHOG()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Detect(img); err != nil {
			b.Fatal(err)
		}
	}
}
