package detect

import (
	"errors"
	"fmt"
	"image"
	"log/slog"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/zones"
)

// ErrModel marks a detector whose model files are missing or unreadable.
var ErrModel = errors.New("detector model unavailable")

// Box is one detected person, in the pixel coordinates of the picture it
// was found in.
type Box struct {
	Rect image.Rectangle
	// Score is what the Detector returns in its own units (see the package
	// documentation); the stage's results carry the confidence in 0..1
	// instead (see Confidence).
	Score float64
}

// Detector finds people in a picture of the kind Input says. Detect must
// not keep or modify img.
type Detector interface {
	Detect(img gocv.Mat) ([]Box, error)
	// Window is the smallest picture Detect looks at: the stage never
	// passes a smaller one, and Detect refuses it with ErrTooSmall.
	Window() image.Point
	// Input is the picture the stage gives Detect.
	Input() Input
	Close() error
}

// Input is the kind of picture a Detector analyses.
type Input int

const (
	// InputBGR is 8-bit BGR: networks, and anything that uses colour.
	InputBGR Input = iota
	// InputGrey is 8-bit grey, for detectors of brightness alone (HOG's
	// gradients, a cascade's features): the stage copies the masked luma
	// plane's crop and converts no colour, which costs less, and gives HOG
	// one gradient a pixel to compute where BGR gives it three.
	InputGrey
)

// Detector kinds.
const (
	KindHOG  = "hog"
	KindHaar = "haar"
	KindDNN  = "dnn"
)

// Config configures the detection stage of one camera and its detector.
type Config struct {
	// Kind is "hog" (default), "haar" or "dnn".
	Kind string
	// Model is the cascade file (haar) or the network weights (dnn).
	Model string
	// ModelConfig is the network description for dnn (a Caffe .prototxt or
	// a TensorFlow .pbtxt); empty when Model alone describes the network.
	ModelConfig string
	// MinScore drops boxes whose confidence (0..1, see Confidence) is below
	// it. 0 keeps all; configs set the default.
	MinScore float64
	// Width is the largest width, in pixels, the crop is given to the
	// detector at; wider crops are scaled down, narrower ones kept. It
	// defaults to 640.
	Width int
	// Upscale enlarges the crop, after the Width cap, by this factor before
	// the detector sees it, for people smaller than the detector's window
	// (HOG: 64x128, so people under about 100 pixels tall). 0 or 1: not
	// enlarged.
	Upscale float64
	// DNN configures the dnn kind.
	DNN DNNConfig
	// Zones decides which pixels may be analysed at a given time. Required
	// by the stage; NewDetector ignores it.
	Zones *zones.Set
	// Clock is the camera's clock: the time of a frame, which signage is
	// checked against (stream time in offline runs). It defaults to the
	// wall clock.
	Clock *clock.Clock
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Observe, when set, is told how long each detector call took (crop and
	// scaling included), for metrics.
	Observe func(time.Duration)
	// Detector, when set, is used instead of one built from Kind (tests,
	// or a detector shared by the caller). The stage closes it.
	Detector Detector
	// Pool, when set, runs this camera's detections on the box's shared
	// workers (newest frame wins, fair across cameras; see Pool) instead of
	// on Run's goroutine. Offline runs leave it nil: they must analyse
	// every frame they are given.
	Pool *Pool
	// Name is the camera's name in the pool.
	Name string
	// MotionCrops makes the detector look only at what moved since the
	// frame it analysed last, and around the people it found there, each
	// a crop of its own, instead of the whole analysis area (which it still
	// analyses every FullEvery, and when the crops would cover most of it).
	// Live cameras set it: it is most of what lets one box detect for many
	// cameras. Offline runs (verify) leave it off and analyse the whole
	// area of every frame they are given, as the accuracy figures were
	// measured.
	MotionCrops bool
}

// NewDetector builds the detector cfg.Kind names.
func NewDetector(cfg Config) (Detector, error) {
	switch cfg.Kind {
	case "", KindHOG:
		return NewHOG()
	case KindHaar:
		return NewHaar(cfg.Model)
	case KindDNN:
		return NewDNN(cfg.Model, cfg.ModelConfig, cfg.DNN)
	}
	return nil, fmt.Errorf("detect: unknown detector kind %q; use hog, haar or dnn", cfg.Kind)
}
