package pipeline_test

import (
	"image"
	"testing"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
)

// TestFromConfigNetwork: the network a config declares reaches the detector.
func TestFromConfigNetwork(t *testing.T) {
	conf := &configs.Config{Site: "s", Cameras: []configs.Camera{{ID: "c", Detect: configs.Detect{
		Kind: "dnn", Model: "/m.onnx", ModelFormat: "yolov5", InputSize: [2]int{320, 256}, PersonClass: 2,
	}}}}
	cc, err := pipeline.FromConfig(conf, &conf.Cameras[0])
	if err != nil {
		t.Fatal(err)
	}
	want := detect.DNNConfig{Format: detect.FormatYOLOv5, InputSize: image.Pt(320, 256), PersonClass: 2}
	if cc.Detect.Kind != "dnn" || cc.Detect.Model != "/m.onnx" || cc.Detect.DNN != want {
		t.Fatalf("detect config %+v, want dnn /m.onnx %+v", cc.Detect, want)
	}
}
