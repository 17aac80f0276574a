package detect

/*
#include <stdlib.h>
#include "dnn.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"os"
	"slices"
	"unsafe"

	"gocv.io/x/gocv"
)

// DNNConfig describes a person detector network for the dnn kind, read
// through OpenCV's dnn module. Format says how its output is laid out:
// SSD-style DetectionOutput (the default), or a YOLOv5- or YOLOv8-style
// ONNX export. docs/detection.md lists the exports OpenCV 4.6 loads.
//
// No weights ship with the project and none can be fetched from the
// device. To use one, copy the files onto the device and point the config
// at them, for example Caffe MobileNet-SSD (VOC classes, person = 15):
//
//	detect:
//	  kind: dnn
//	  model: /var/lib/edge/MobileNetSSD_deploy.caffemodel
//	  model_config: /var/lib/edge/MobileNetSSD_deploy.prototxt
//	  # defaults fit it: 300x300, scale 1/127.5, mean 127.5, BGR, class 15
//
// or a YOLOv8 export (COCO, person = 0; 640x640, RGB, 0..1, letterboxed):
//
//	detect:
//	  kind: dnn
//	  model: /var/lib/edge/yolov8n.onnx
//	  model_format: yolov8
//
// or TensorFlow ssd_mobilenet_v2_coco (COCO, person = 1): model
// frozen_inference_graph.pb, model_config the matching .pbtxt made with
// OpenCV's tf_text_graph_ssd.py, person_class 1, scale 1, mean 0, swap_rb true.
type DNNConfig struct {
	// Format is the output layout: FormatSSD (default), FormatYOLOv5 or
	// FormatYOLOv8. It also sets the defaults below.
	Format string
	// PersonClass is the class id of "person" in the network's labels. For
	// SSD it defaults to 15 (VOC, as in MobileNet-SSD), and 0, the
	// background class of SSD networks, cannot be chosen; for YOLO it is
	// the COCO person, 0.
	PersonClass int
	// InputSize is the network's input size. It defaults to 300x300 (SSD)
	// or 640x640 (YOLO); a network with a fixed input needs exactly it.
	InputSize image.Point
	// Scale multiplies pixel values after the mean is subtracted. It
	// defaults to 1/127.5 (SSD) or 1/255 (YOLO).
	Scale float64
	// Mean is subtracted from each channel (in the network's channel
	// order). A zero Mean with a zero Scale defaults to 127.5 each for SSD.
	Mean [3]float64
	// SwapRB feeds the network RGB instead of BGR. YOLO exports always
	// take RGB.
	SwapRB bool
	// ScoreFloor drops candidates below it before NMS. It defaults to 0.25;
	// detect.min_score applies after it.
	ScoreFloor float64
	// NMSOverlap is the intersection over union above which the weaker of
	// two boxes is suppressed. It defaults to 0.45.
	NMSOverlap float64
}

func (c *DNNConfig) setDefaults() {
	if c.Format == "" {
		c.Format = FormatSSD
	}
	yolo := c.Format == FormatYOLOv5 || c.Format == FormatYOLOv8
	if c.PersonClass == 0 && !yolo {
		c.PersonClass = 15
	}
	if c.InputSize == (image.Point{}) {
		c.InputSize = image.Pt(300, 300)
		if yolo {
			c.InputSize = image.Pt(640, 640)
		}
	}
	if c.Scale == 0 {
		c.Scale = 1 / 127.5
		switch {
		case yolo:
			c.Scale = 1.0 / 255
		case c.Mean == [3]float64{}:
			c.Mean = [3]float64{127.5, 127.5, 127.5}
		}
	}
	if yolo {
		c.SwapRB = true
	}
	if c.ScoreFloor == 0 {
		c.ScoreFloor = 0.25
	}
	if c.NMSOverlap == 0 {
		c.NMSOverlap = 0.45
	}
}

func (c *DNNConfig) letterbox() bool { return c.Format != FormatSSD }

// DNN runs a person detector network with OpenCV's dnn module on the CPU.
type DNN struct {
	p   unsafe.Pointer
	cfg DNNConfig
}

// NewDNN loads the network from model (weights) and config (description,
// may be empty for formats that need none, such as ONNX), and runs it once
// on a blank picture to check that its output has the declared layout, so
// that a wrong model or format is a start-up error naming the fix. Missing
// files are reported with ErrModel before OpenCV is asked to read anything.
func NewDNN(model, config string, cfg DNNConfig) (*DNN, error) {
	cfg.setDefaults()
	if !slices.Contains(Formats, cfg.Format) {
		return nil, fmt.Errorf("detect: dnn model format %q is unknown; use one of %v (detect.model_format)", cfg.Format, Formats)
	}
	if cfg.InputSize.X <= 0 || cfg.InputSize.Y <= 0 || cfg.InputSize.X > 4096 || cfg.InputSize.Y > 4096 {
		return nil, fmt.Errorf("detect: dnn input size %v must be 1..4096 pixels each way (detect.input_size)", cfg.InputSize)
	}
	if cfg.PersonClass < 0 || (cfg.Format == FormatSSD && cfg.PersonClass == 0) {
		return nil, fmt.Errorf("detect: dnn person class %d: use the class id of person in the network's labels (0 is an SSD network's background)", cfg.PersonClass)
	}
	if model == "" {
		return nil, fmt.Errorf("detect: %w: dnn needs detect.model (network weights, e.g. MobileNetSSD_deploy.caffemodel or yolov8n.onnx); none ship with the project, copy them onto the device", ErrModel)
	}
	for _, f := range []struct{ key, path string }{{"model", model}, {"model_config", config}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return nil, fmt.Errorf("detect: %w: dnn %s: %w; copy the network files onto the device and fix detect.%s", ErrModel, f.key, err, f.key)
		}
	}
	cm, cc := C.CString(model), C.CString(config)
	defer C.free(unsafe.Pointer(cm))
	defer C.free(unsafe.Pointer(cc))
	var errBuf [512]C.char
	p := C.edge_dnn_new(cm, cc, &errBuf[0], C.int(len(errBuf)))
	if p == nil {
		return nil, fmt.Errorf("detect: %w: OpenCV cannot read network %s (config %q): %s", ErrModel, model, config, cMsg(&errBuf[0]))
	}
	d := &DNN{p: p, cfg: cfg}
	blank := gocv.NewMatWithSize(cfg.InputSize.Y, cfg.InputSize.X, gocv.MatTypeCV8UC3)
	defer blank.Close()
	if _, err := d.Detect(blank); err != nil {
		d.Close()
		return nil, fmt.Errorf("detect: network %s: %w", model, err)
	}
	return d, nil
}

// Detect returns the people in img; Score is the network's confidence (0..1).
func (d *DNN) Detect(img gocv.Mat) ([]Box, error) {
	if d.p == nil {
		return nil, errors.New("detect: dnn detector used after Close")
	}
	if err := fits(img, d.Window(), d.Input()); err != nil {
		return nil, fmt.Errorf("detect: dnn: %w", err)
	}
	var errBuf [512]C.char
	swap, lb := C.int(0), C.int(0)
	if d.cfg.SwapRB {
		swap = 1
	}
	if d.cfg.letterbox() {
		lb = 1
	}
	var out C.EdgeDNNOut
	if C.edge_dnn_forward(d.p, unsafe.Pointer(img.Ptr()), C.double(d.cfg.Scale),
		C.int(d.cfg.InputSize.X), C.int(d.cfg.InputSize.Y),
		C.double(d.cfg.Mean[0]), C.double(d.cfg.Mean[1]), C.double(d.cfg.Mean[2]), swap, lb,
		&out, &errBuf[0], C.int(len(errBuf))) != 0 {
		return nil, fmt.Errorf("detect: dnn on %dx%d picture: %s", img.Cols(), img.Rows(), cMsg(&errBuf[0]))
	}
	defer C.edge_dnn_release(out.keep)
	shape := make([]int, int(out.dims))
	for i := range shape {
		shape[i] = int(out.size[i])
	}
	if err := checkLayout(d.cfg.Format, shape, d.cfg.PersonClass); err != nil {
		return nil, err
	}
	want := 1
	for _, n := range shape {
		want *= n
	}
	if int(out.total) != want || want == 0 {
		return nil, fmt.Errorf("detect: dnn output of shape %v holds %d values", shape, int(out.total))
	}
	data := unsafe.Slice((*float32)(unsafe.Pointer(out.data)), want)
	size, in := image.Pt(img.Cols(), img.Rows()), d.cfg.InputSize
	dets := nms(decode(d.cfg.Format, data, shape, d.cfg.PersonClass, d.cfg.ScoreFloor, size, in, letterboxRatio(size, in)), d.cfg.NMSOverlap)
	boxes := make([]Box, len(dets))
	for i, x := range dets {
		boxes[i] = Box{Rect: x.rect, Score: x.score}
	}
	return boxes, nil
}

// Window is 1x1: OpenCV scales any picture to the network's input size.
func (d *DNN) Window() image.Point { return image.Pt(1, 1) }

// Input is BGR: networks are trained on colour (SwapRB turns it to RGB).
func (d *DNN) Input() Input { return InputBGR }

// Close frees the network.
func (d *DNN) Close() error {
	if d.p != nil {
		C.edge_dnn_free(d.p)
		d.p = nil
	}
	return nil
}
