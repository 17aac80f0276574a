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
	"unsafe"

	"gocv.io/x/gocv"
)

// DNNConfig describes an SSD-style person detector for the dnn kind: any
// network whose output is OpenCV's DetectionOutput layout, [1, 1, N, 7]
// rows of (image, class, score, x0, y0, x1, y1) in normalised coordinates.
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
// or TensorFlow ssd_mobilenet_v2_coco (COCO, person = 1): model
// frozen_inference_graph.pb, model_config the matching .pbtxt made with
// OpenCV's tf_text_graph_ssd.py, person_class 1, scale 1, mean 0, swap_rb true.
type DNNConfig struct {
	// PersonClass is the class id of "person" in the network's labels. It
	// defaults to 15 (VOC, as in MobileNet-SSD); 0 is the background class
	// of SSD networks, so it cannot be chosen.
	PersonClass int
	// InputSize is the network's input size. It defaults to 300x300.
	InputSize image.Point
	// Scale multiplies pixel values after the mean is subtracted. It
	// defaults to 1/127.5.
	Scale float64
	// Mean is subtracted from each channel (in the network's channel
	// order). A zero Mean with a zero Scale defaults to 127.5 each.
	Mean [3]float64
	// SwapRB feeds the network RGB instead of BGR.
	SwapRB bool
}

func (c *DNNConfig) setDefaults() {
	if c.PersonClass == 0 {
		c.PersonClass = 15
	}
	if c.InputSize == (image.Point{}) {
		c.InputSize = image.Pt(300, 300)
	}
	if c.Scale == 0 {
		c.Scale = 1 / 127.5
		if c.Mean == [3]float64{} {
			c.Mean = [3]float64{127.5, 127.5, 127.5}
		}
	}
}

const dnnMaxDets = 512

// DNN runs an SSD-style network with OpenCV's dnn module on the CPU.
type DNN struct {
	p   unsafe.Pointer
	cfg DNNConfig
	buf []C.EdgeDNNDet
}

// NewDNN loads the network from model (weights) and config (description,
// may be empty for formats that need none). Missing files are reported
// with ErrModel before OpenCV is asked to read anything.
func NewDNN(model, config string, cfg DNNConfig) (*DNN, error) {
	cfg.setDefaults()
	if cfg.InputSize.X <= 0 || cfg.InputSize.Y <= 0 {
		return nil, fmt.Errorf("detect: dnn input size %v must be positive", cfg.InputSize)
	}
	if model == "" {
		return nil, fmt.Errorf("detect: %w: dnn needs detect.model (network weights, e.g. MobileNetSSD_deploy.caffemodel); none ship with the project, copy them onto the device", ErrModel)
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
	return &DNN{p: p, cfg: cfg, buf: make([]C.EdgeDNNDet, dnnMaxDets)}, nil
}

// Detect returns the people in img; Score is the network's confidence (0..1).
func (d *DNN) Detect(img gocv.Mat) ([]Box, error) {
	if d.p == nil {
		return nil, errors.New("detect: dnn detector used after Close")
	}
	if err := fits(img, d.Window()); err != nil {
		return nil, fmt.Errorf("detect: dnn: %w", err)
	}
	var errBuf [512]C.char
	swap := C.int(0)
	if d.cfg.SwapRB {
		swap = 1
	}
	n := C.edge_dnn_detect(d.p, unsafe.Pointer(img.Ptr()), C.double(d.cfg.Scale),
		C.int(d.cfg.InputSize.X), C.int(d.cfg.InputSize.Y),
		C.double(d.cfg.Mean[0]), C.double(d.cfg.Mean[1]), C.double(d.cfg.Mean[2]), swap,
		&d.buf[0], C.int(len(d.buf)), &errBuf[0], C.int(len(errBuf)))
	if n < 0 {
		return nil, fmt.Errorf("detect: dnn on %dx%d picture: %s", img.Cols(), img.Rows(), cMsg(&errBuf[0]))
	}
	w, h := float64(img.Cols()), float64(img.Rows())
	bounds := image.Rect(0, 0, img.Cols(), img.Rows())
	var boxes []Box
	for _, r := range d.buf[:min(int(n), len(d.buf))] {
		if int(r.class_id) != d.cfg.PersonClass {
			continue
		}
		rect := image.Rect(int(float64(r.x0)*w), int(float64(r.y0)*h),
			int(float64(r.x1)*w+0.5), int(float64(r.y1)*h+0.5)).Intersect(bounds)
		if rect.Empty() {
			continue
		}
		boxes = append(boxes, Box{Rect: rect, Score: float64(r.score)})
	}
	return boxes, nil
}

// Window is 1x1: OpenCV scales any picture to the network's input size.
func (d *DNN) Window() image.Point { return image.Pt(1, 1) }

// Close frees the network.
func (d *DNN) Close() error {
	if d.p != nil {
		C.edge_dnn_free(d.p)
		d.p = nil
	}
	return nil
}
