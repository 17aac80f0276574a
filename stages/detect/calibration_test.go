package detect_test

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/zones"
)

// The calibration set (see docs/detection.md): boxes a detector finds in
// the labelled test clips, labelled by their overlap with the ground truth,
// and boxes it finds in people-free OpenCV sample pictures, all false.
var (
	labelledClips = [][2]string{
		{"../../testvideos/synthetic-walk.mp4", "../../testvideos/synthetic-walk.json"},
		{"../../testvideos/scenarios/privacy-doorway/clip.mp4", "../../testvideos/scenarios/privacy-doorway/clip.json"},
		{"../../testvideos/scenarios/unsigned-zone/clip.mp4", "../../testvideos/scenarios/unsigned-zone/clip.json"},
	}
	samples      = "/usr/share/doc/opencv-doc/examples/data/"
	peopleFree   = []string{"building.jpg", "fruits.jpg", "baboon.jpg", "home.jpg", "aero1.jpg", "aero3.jpg", "graf1.png", "leuvenA.jpg", "leuvenB.jpg", "board.jpg", "orange.jpg", "apple.jpg", "blox.jpg", "box_in_scene.png", "HappyFish.jpg", "butterfly.jpg"}
	clipStep     = 4   // every 4th frame: neighbours are near copies
	matchIoU     = 0.3 // a box this close to a labelled person found them
	calibrateHit = -0.5
)

type sample struct {
	raw    float64
	person bool
}

type groundTruth struct {
	Frames []struct {
		Boxes []struct {
			Box struct{ X, Y, W, H float64 }
		}
	}
}

// calibrationSet runs d over the labelled clips and the people-free pictures.
func calibrationSet(t *testing.T, d detect.Detector) []sample {
	t.Helper()
	var out []sample
	for _, c := range labelledClips {
		b, err := os.ReadFile(c[1])
		if err != nil {
			t.Fatal(err)
		}
		var gt groundTruth
		if err := json.Unmarshal(b, &gt); err != nil {
			t.Fatal(err)
		}
		vc, err := gocv.VideoCaptureFile(c[0])
		if err != nil {
			t.Fatal(err)
		}
		m := gocv.NewMat()
		for i := 0; vc.Read(&m) && !m.Empty(); i++ {
			if i%clipStep != 0 || i >= len(gt.Frames) {
				continue
			}
			boxes := detectAsStage(t, d, m)
			w, h := float64(m.Cols()), float64(m.Rows())
			for _, bx := range boxes {
				best := 0.0
				for _, g := range gt.Frames[i].Boxes {
					r := image.Rect(int(g.Box.X*w), int(g.Box.Y*h), int((g.Box.X+g.Box.W)*w), int((g.Box.Y+g.Box.H)*h))
					best = max(best, zones.IoU(bx.Rect, r))
				}
				out = append(out, sample{bx.Score, best >= matchIoU})
			}
		}
		m.Close()
		vc.Close()
	}
	for _, n := range peopleFree {
		m := gocv.IMRead(samples+n, gocv.IMReadColor)
		if m.Empty() {
			t.Fatalf("sample picture %s missing (Debian opencv-doc)", n)
		}
		if m.Cols() > 640 {
			gocv.Resize(m, &m, image.Pt(640, m.Rows()*640/m.Cols()), 0, 0, gocv.InterpolationArea)
		}
		boxes := detectAsStage(t, d, m)
		m.Close()
		for _, bx := range boxes {
			out = append(out, sample{bx.Score, false})
		}
	}
	return out
}

// detectAsStage runs d on the BGR picture m as the stage would give it:
// for a grey detector, m through the planes frames travel in and the luma
// crop the stage copies (yuv.Picture.CropGray).
func detectAsStage(t *testing.T, d detect.Detector, m gocv.Mat) []detect.Box {
	t.Helper()
	img := m
	if d.Input() == detect.InputGrey {
		p, err := yuv.FromBGR(m)
		if err != nil {
			t.Fatal(err)
		}
		g, err := p.CropGray(image.Rect(0, 0, m.Cols(), m.Rows()))
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		img = g
	}
	boxes, err := d.Detect(img)
	if err != nil {
		t.Fatal(err)
	}
	return boxes
}

// fitLogistic fits p = 1/(1+exp(-(a*raw+b))) by Newton's method (Platt
// scaling), with Platt's target smoothing so that a clean split stays finite.
func fitLogistic(s []sample) (a, b float64) {
	var npos, nneg float64
	for _, x := range s {
		if x.person {
			npos++
		} else {
			nneg++
		}
	}
	hi, lo := (npos+1)/(npos+2), 1/(nneg+2)
	for range 100 {
		var ga, gb, haa, hab, hbb float64
		for _, x := range s {
			y := lo
			if x.person {
				y = hi
			}
			p := 1 / (1 + math.Exp(-(a*x.raw + b)))
			ga += (p - y) * x.raw
			gb += p - y
			w := p * (1 - p)
			haa += w * x.raw * x.raw
			hab += w * x.raw
			hbb += w
		}
		det := haa*hbb - hab*hab
		if det == 0 {
			break
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		a, b = a-da, b-db
		if math.Abs(da)+math.Abs(db) < 1e-9 {
			break
		}
	}
	return a, b
}

func brier(s []sample, p func(float64) float64) float64 {
	var sum float64
	for _, x := range s {
		y := 0.0
		if x.person {
			y = 1
		}
		sum += (p(x.raw) - y) * (p(x.raw) - y)
	}
	return sum / float64(len(s))
}

// TestHOGCalibration refits the HOG margin-to-confidence mapping on the
// calibration set and checks that the one in the code still matches it, and
// that it predicts better than the base rate alone.
func TestHOGCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs HOG over three clips")
	}
	h, err := detect.NewHOG()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	detect.SetHitThreshold(h, calibrateHit)
	set := calibrationSet(t, h)
	var pos int
	for _, x := range set {
		if x.person {
			pos++
		}
	}
	if pos < 30 || len(set)-pos < 8 {
		t.Fatalf("calibration set too small: %d people, %d not", pos, len(set)-pos)
	}
	a, b := fitLogistic(set)
	t.Logf("HOG calibration set: %d boxes on people, %d not; fitted a=%.3f b=%.3f", pos, len(set)-pos, a, b)
	fitted := func(raw float64) float64 { return 1 / (1 + math.Exp(-(a*raw + b))) }
	code := func(raw float64) float64 { return detect.Confidence(detect.KindHOG, raw) }
	for raw := 0.0; raw <= 5; raw += 0.25 {
		if d := math.Abs(code(raw) - fitted(raw)); d > 0.05 {
			t.Errorf("margin %.2f: code says %.3f, the calibration set %.3f: refit and update hogCalibration", raw, code(raw), fitted(raw))
		}
	}
	rate := float64(pos) / float64(len(set))
	if bc, bb := brier(set, code), brier(set, func(float64) float64 { return rate }); bc >= bb {
		t.Errorf("calibrated Brier score %.3f is no better than the base rate's %.3f", bc, bb)
	}
}

// TestHaarCalibration checks that a cascade's fixed confidence is its
// precision on the calibration set: cascades give no score of their own.
func TestHaarCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cascade over three clips")
	}
	h, err := detect.NewHaar(fullbody)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	set := calibrationSet(t, h)
	var pos int
	for _, x := range set {
		if x.person {
			pos++
		}
	}
	if len(set) == 0 {
		t.Fatal("the cascade found nothing in the calibration set")
	}
	precision := float64(pos) / float64(len(set))
	t.Logf("haar calibration set: %d boxes, %d on people: precision %.3f", len(set), pos, precision)
	if got := detect.Confidence(detect.KindHaar, 1); math.Abs(got-precision) > 0.1 {
		t.Errorf("haar confidence %.3f, but the cascade's precision on the calibration set is %.3f: update haarConfidence", got, precision)
	}
}

func TestConfidenceInUnitRange(t *testing.T) {
	for _, kind := range []string{detect.KindHOG, detect.KindHaar, detect.KindDNN, ""} {
		prev := -1.0
		for _, raw := range []float64{math.Inf(-1), -100, -1, 0, 0.5, 1, 2, 3, 10, 1e6, math.Inf(1), math.NaN()} {
			c := detect.Confidence(kind, raw)
			if !(c >= 0 && c <= 1) {
				t.Errorf("%s raw %v: confidence %v outside 0..1", kind, raw, c)
			}
			if !math.IsNaN(raw) {
				if c < prev {
					t.Errorf("%s: confidence falls from %v to %v as raw rises to %v", kind, prev, c, raw)
				}
				prev = c
			}
		}
	}
}
