package detect_test

import (
	"errors"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/zones"
)

// yoloRow is one YOLO candidate in input pixels: centre, size, objectness
// (v5 only) and the score of one class out of 80.
type yoloRow struct {
	cx, cy, w, h, obj float32
	class             int
	score             float32
}

const (
	cocoClasses = 80
	// candidates is how many rows the YOLO tests' networks give (zeros after
	// the rows a test sets): real exports have more candidates than values
	// per candidate, and the layouts are told apart by that.
	candidates = 100
)

// The person the YOLO tests place: in a 640x640 input, centre (320, 200),
// 100x200. A 1280x720 picture is letterboxed at half size into the top of
// the input, so the person is (540, 200)-(740, 600) in the picture.
var (
	yoloPerson = yoloRow{cx: 320, cy: 200, w: 100, h: 200, obj: 0.9, class: 0, score: 1}
	pictureBox = image.Rect(540, 200, 740, 600)
	yoloOthers = []yoloRow{
		{cx: 326, cy: 204, w: 100, h: 200, obj: 0.8, class: 0, score: 1},  // the same person again: NMS removes it
		{cx: 100, cy: 100, w: 50, h: 50, obj: 0.95, class: 16, score: 1},  // a dog
		{cx: 500, cy: 100, w: 40, h: 80, obj: 0.1, class: 0, score: 1},    // a person below the floor
		{cx: 200, cy: 250, w: 60, h: 120, obj: 0.7, class: 0, score: 0.2}, // v5 score 0.14: below the floor
	}
)

func yoloV5(rows []yoloRow) ([]int64, []float32) {
	stride := 5 + cocoClasses
	out := make([]float32, candidates*stride)
	for i, r := range rows {
		row := out[i*stride:]
		row[0], row[1], row[2], row[3], row[4] = r.cx, r.cy, r.w, r.h, r.obj
		row[5+r.class] = r.score
	}
	return []int64{1, candidates, int64(stride)}, out
}

// yoloV8 lays the rows out as v8 does, one column per candidate; v8 has no
// objectness, so a row's score is obj*score.
func yoloV8(rows []yoloRow) ([]int64, []float32) {
	n, ch := candidates, 4+cocoClasses
	out := make([]float32, ch*n)
	for i, r := range rows {
		out[0*n+i], out[1*n+i], out[2*n+i], out[3*n+i] = r.cx, r.cy, r.w, r.h
		out[(4+r.class)*n+i] = r.obj * r.score
	}
	return []int64{1, int64(ch), int64(n)}, out
}

func picture(t *testing.T, w, h int, bgr gocv.Scalar) gocv.Mat {
	t.Helper()
	m := gocv.NewMatWithSizeFromScalar(bgr, h, w, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { m.Close() })
	return m
}

func detectWith(t *testing.T, model string, cfg detect.DNNConfig, img gocv.Mat) []detect.Box {
	t.Helper()
	d, err := detect.NewDNN(model, "", cfg)
	if err != nil {
		t.Fatalf("NewDNN: %v", err)
	}
	defer d.Close()
	boxes, err := d.Detect(img)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	return boxes
}

// TestONNXYOLO loads YOLOv5- and YOLOv8-layout ONNX networks through
// OpenCV and checks the decoding: the person only, score floor, NMS, and the
// letterboxed box mapped back onto the picture.
func TestONNXYOLO(t *testing.T) {
	rows := append([]yoloRow{yoloPerson}, yoloOthers...)
	for _, tc := range []struct {
		format string
		layout func([]yoloRow) ([]int64, []float32)
	}{
		{detect.FormatYOLOv5, yoloV5},
		{detect.FormatYOLOv8, yoloV8},
	} {
		t.Run(tc.format, func(t *testing.T) {
			shape, out := tc.layout(rows)
			model := fixedOutputModel(t, 640, 640, shape, out, nil)
			boxes := detectWith(t, model, detect.DNNConfig{Format: tc.format}, picture(t, 1280, 720, gocv.NewScalar(40, 40, 40, 0)))
			if len(boxes) != 1 {
				t.Fatalf("boxes %v, want the one person (duplicate suppressed, dog and weak ones dropped)", boxes)
			}
			if !near(boxes[0].Rect, pictureBox, 1) || math.Abs(boxes[0].Score-0.9) > 1e-4 {
				t.Errorf("box %v score %.4f, want %v score 0.9", boxes[0].Rect, boxes[0].Score, pictureBox)
			}
		})
	}
}

// TestONNXPreprocessing makes the person's score the mean of the first
// channel the network sees: a red picture gives 1 in the red-first (RGB)
// input YOLO takes, scaled to 0..1, diluted by the grey (114) letterbox
// padding below the picture; a blue picture gives only the padding's share.
func TestONNXPreprocessing(t *testing.T) {
	box := yoloPerson
	box.obj, box.score = 0, 0
	shape, out := yoloV8([]yoloRow{box})
	// Output index of the person score of candidate 0: row 4, column 0.
	model := fixedOutputModel(t, 640, 640, shape, out, map[int][3]float32{4 * candidates: {1, 0, 0}})
	// 1280x720 letterboxed into 640x640: 360 picture rows, 280 of padding.
	pad := 280.0 / 640 * 114 / 255
	for _, tc := range []struct {
		name  string
		bgr   gocv.Scalar
		score float64
	}{
		{"red", gocv.NewScalar(0, 0, 255, 0), 360.0/640 + pad},
		{"blue", gocv.NewScalar(255, 0, 0, 0), pad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boxes := detectWith(t, model, detect.DNNConfig{Format: detect.FormatYOLOv8, ScoreFloor: 0.01}, picture(t, 1280, 720, tc.bgr))
			if len(boxes) != 1 || math.Abs(boxes[0].Score-tc.score) > 0.01 {
				t.Fatalf("boxes %v, want one with score %.3f", boxes, tc.score)
			}
		})
	}
}

// TestONNXSSD: an SSD-layout ONNX network, corners in 0..1 of the picture,
// class 15 (VOC person) by default.
func TestONNXSSD(t *testing.T) {
	rows := []float32{
		0, 15, 0.8, 0.1, 0.2, 0.3, 0.6, // person
		0, 7, 0.9, 0.5, 0.5, 0.9, 0.9, // a car
		0, 15, 0.1, 0.6, 0.1, 0.7, 0.4, // a person below the floor
		0, 15, 0.7, 0.8, 0.8, 1.5, 1.7, // a person running off the picture: clipped
	}
	model := fixedOutputModel(t, 300, 300, []int64{1, 1, 4, 7}, rows, nil)
	boxes := detectWith(t, model, detect.DNNConfig{Format: detect.FormatSSD}, picture(t, 1280, 720, gocv.NewScalar(0, 0, 0, 0)))
	want := []image.Rectangle{image.Rect(128, 144, 384, 432), image.Rect(1024, 576, 1280, 720)}
	if len(boxes) != len(want) {
		t.Fatalf("boxes %v, want %v", boxes, want)
	}
	for i, b := range boxes {
		if !near(b.Rect, want[i], 1) {
			t.Errorf("box %d is %v, want %v", i, b.Rect, want[i])
		}
	}
}

// TestONNXWrongLayout: a network whose output is not the declared layout
// is refused when it loads, with the layout it looks like.
func TestONNXWrongLayout(t *testing.T) {
	v5Shape, v5 := yoloV5([]yoloRow{yoloPerson})
	v5Model := fixedOutputModel(t, 640, 640, v5Shape, v5, nil)
	ssdModel := fixedOutputModel(t, 300, 300, []int64{1, 1, 1, 7}, []float32{0, 15, 0.8, 0.1, 0.2, 0.3, 0.6}, nil)
	for _, tc := range []struct {
		name, model, format, want string
		inputSize                 image.Point
	}{
		{"v5 declared v8", v5Model, detect.FormatYOLOv8, "looks like yolov5", image.Point{}},
		{"v5 declared ssd", v5Model, detect.FormatSSD, "set detect.model_format: yolov5", image.Pt(640, 640)},
		{"ssd declared v5", ssdModel, detect.FormatYOLOv5, "looks like ssd", image.Pt(300, 300)},
		{"unknown format", ssdModel, "yolov11", "unknown", image.Point{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := detect.NewDNN(tc.model, "", detect.DNNConfig{Format: tc.format, InputSize: tc.inputSize})
			if err == nil {
				d.Close()
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if tc.format != "yolov11" && !errors.Is(err, detect.ErrModel) {
				t.Errorf("error %v is not ErrModel", err)
			}
		})
	}
}

// TestONNXWildOutputs: NaN, infinite and huge values from a network give no
// box and no panic.
func TestONNXWildOutputs(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	rows := []yoloRow{
		{cx: nan, cy: 200, w: 100, h: 200, obj: 0.9, score: 1},
		{cx: 320, cy: 200, w: inf, h: 200, obj: 0.9, score: 1},
		{cx: 320, cy: 200, w: 100, h: 200, obj: nan, score: 1},
		{cx: 3e38, cy: -3e38, w: 1e30, h: 1e30, obj: 0.9, score: 1},
		{cx: 320, cy: 200, w: 100, h: 200, obj: inf, score: 1},
	}
	shape, out := yoloV5(rows)
	model := fixedOutputModel(t, 640, 640, shape, out, nil)
	boxes := detectWith(t, model, detect.DNNConfig{Format: detect.FormatYOLOv5}, picture(t, 640, 480, gocv.NewScalar(0, 0, 0, 0)))
	for _, b := range boxes {
		if !b.Rect.In(image.Rect(0, 0, 640, 480)) || !(b.Score >= 0 && b.Score <= 1) {
			t.Errorf("box %v score %v outside the picture or 0..1", b.Rect, b.Score)
		}
	}
	if len(boxes) > 1 {
		t.Errorf("boxes %v: at most the picture-sized one may come from wild values", boxes)
	}
}

func near(a, b image.Rectangle, tol int) bool {
	d := func(x, y int) bool { return x-y <= tol && y-x <= tol }
	return d(a.Min.X, b.Min.X) && d(a.Min.Y, b.Min.Y) && d(a.Max.X, b.Max.X) && d(a.Max.Y, b.Max.Y)
}

// TestONNXThroughTheStage runs a YOLOv8 network as the camera's detector:
// the stage crops the signed zone, scales it to detect.width, the detector
// letterboxes it, and the person comes back in frame pixels with its
// confidence; min_score drops the weak one.
func TestONNXThroughTheStage(t *testing.T) {
	strong := yoloPerson // (540, 200)-(740, 600) of a 1280x720 frame
	weak := yoloRow{cx: 100, cy: 100, w: 40, h: 80, obj: 0.5, class: 0, score: 1}
	shape, out := yoloV8([]yoloRow{strong, weak})
	model := fixedOutputModel(t, 640, 640, shape, out, nil)
	st, err := detect.New(detect.Config{Kind: detect.KindDNN, Model: model, DNN: detect.DNNConfig{Format: detect.FormatYOLOv8},
		Width: 640, MinScore: 0.6, Zones: floorSet(rect(0, 0, 1, 1), t0.Add(time.Hour)), Clock: clock.Live(func() time.Time { return t0 })})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	frames := masked(t, zones.NewSet(nil, nil), []gocv.Mat{gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 720, 1280, gocv.MatTypeCV8UC3)})
	defer frames[0].Close()
	res, err := st.Process(frames[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Boxes) != 1 || !near(res.Boxes[0].Rect, pictureBox, 2) || math.Abs(res.Boxes[0].Score-0.9) > 1e-4 {
		t.Fatalf("boxes %v, want one at %v with confidence 0.9 (the 0.5 one is below min_score)", res.Boxes, pictureBox)
	}
}
