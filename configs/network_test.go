package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

// TestNetworkSettings: how a dnn network is declared (model_format,
// input_size, person_class), each mistake reported at its key with a fix.
func TestNetworkSettings(t *testing.T) {
	onnx := filepath.Join(t.TempDir(), "yolov8n.onnx")
	if err := os.WriteFile(onnx, []byte("not checked here: the detector reads it"), 0o600); err != nil {
		t.Fatal(err)
	}
	const p = "cameras[lobby].detect"
	dnn := func(c *configs.Config) *configs.Detect {
		d := &c.Cameras[0].Detect
		d.Kind, d.Model, d.ModelFormat = "dnn", onnx, "yolov8"
		d.ModelDeclaration = &configs.ModelDeclaration{Detects: "person", DeclaredBy: "Test Engineer, QA"}
		return d
	}
	for _, tc := range []struct {
		name       string
		mutate     func(c *configs.Config)
		path, want string // no path: valid
	}{
		{name: "yolov8 onnx declared", mutate: func(c *configs.Config) { dnn(c).InputSize = [2]int{640, 640} }},
		{name: "yolov5 person class 0", mutate: func(c *configs.Config) { dnn(c).ModelFormat = "yolov5" }},
		{name: "ssd with its class", mutate: func(c *configs.Config) { d := dnn(c); d.ModelFormat, d.PersonClass = "ssd", 1 }},
		{"unknown format", func(c *configs.Config) { dnn(c).ModelFormat = "yolov11" }, p + ".model_format", "yolov5 for [1,N,85]"},
		{"onnx without format", func(c *configs.Config) { dnn(c).ModelFormat = "" }, p + ".model_format", "needs model_format"},
		{"input size one number", func(c *configs.Config) { dnn(c).InputSize = [2]int{640} }, p + ".input_size", "[width, height]"},
		{"input size zero", func(c *configs.Config) { dnn(c).InputSize = [2]int{0, 640} }, p + ".input_size", "1..4096"},
		{"input size huge", func(c *configs.Config) { dnn(c).InputSize = [2]int{640, 100000} }, p + ".input_size", "1..4096"},
		{"person class negative", func(c *configs.Config) { dnn(c).PersonClass = -1 }, p + ".person_class", "COCO YOLO: 0"},
		{"format on hog", func(c *configs.Config) { c.Cameras[0].Detect.ModelFormat = "yolov8" }, p, "kind: dnn"},
		{"face model by name", func(c *configs.Config) {
			face := filepath.Join(filepath.Dir(onnx), "yolov8n-face.onnx")
			if err := os.WriteFile(face, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			dnn(c).Model = face
		}, p + ".model", "face"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			tc.mutate(c)
			err := c.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			ps := problems(t, err)
			for _, pr := range ps {
				if pr.Path == tc.path && strings.Contains(pr.Msg+" "+pr.Fix, tc.want) && pr.Fix != "" {
					return
				}
			}
			t.Fatalf("no problem at %q mentioning %q; got %v", tc.path, tc.want, ps)
		})
	}
}

// TestMinScoreDefaultByKind: min_score's default is a confidence just above
// HOG's weakest box for hog and haar, and 0.45 for networks, whose own
// score floor (0.25) the HOG default would not raise.
func TestMinScoreDefaultByKind(t *testing.T) {
	for kind, want := range map[string]float64{"": configs.DefaultMinScore, "hog": configs.DefaultMinScore, "haar": configs.DefaultMinScore, "dnn": configs.DefaultDNNMinScore} {
		c := configs.Config{Cameras: []configs.Camera{{ID: "c", Detect: configs.Detect{Kind: kind}}, {ID: "set", Detect: configs.Detect{Kind: kind, MinScore: 0.7}}}}
		c.ApplyDefaults()
		if got := c.Cameras[0].Detect.MinScore; got != want {
			t.Errorf("kind %q: min_score defaults to %v, want %v", kind, got, want)
		}
		if got := c.Cameras[1].Detect.MinScore; got != 0.7 {
			t.Errorf("kind %q: a min_score of 0.7 became %v", kind, got)
		}
	}
}
