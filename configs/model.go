package configs

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/edgeprivacy/edge/internal/modelid"
)

// personTarget is what a declared model may detect: people, as a whole.
var personTarget = regexp.MustCompile(`(?i)\b(person|persons|people|pedestrians?|full[ -]?body|upper[ -]?body|human bod(y|ies))\b`)

// Models identifies the detector's model files by content, in the order
// model, model_config; empty for kind hog. Unreadable files are skipped
// (Validate reports them).
func (d *Detect) Models() []modelid.Model {
	if d.Kind == "hog" {
		return nil
	}
	var out []modelid.Model
	for _, f := range []string{d.Model, d.ModelConfig} {
		if f == "" {
			continue
		}
		if m, err := modelid.Identify(f); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// validateModel refuses a known biometric model whatever its name, and asks
// for a declaration for any model that is not a known person detector.
func (d *Detect) validateModel(v *validator, p string) {
	if biometricModel.MatchString(filepath.Base(d.Model)) {
		return // already refused by its name
	}
	m, err := modelid.Identify(d.Model)
	if err != nil {
		v.add(p+".detect.model", "check the path; the file must be readable by edge", "%v", err)
		return
	}
	const useFix = "use a person (full body) detector, e.g. kind: hog, or /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml; faces and other biometric features are never analysed"
	switch {
	case m.Biometric() && m.MatchedBy == modelid.MatchStructure:
		// Checked before any declaration: editing a number of a face
		// cascade and declaring it a person detector does not make it one.
		v.add(p+".detect.model", useFix, "model %q (sha256 %s) has the structure of %s, a %s detector (same window, stages and features; only thresholds, leaf values or parts OpenCV does not use differ), whatever the file is called or declared to detect",
			d.Model, m.SHA256[:16], m.KnownAs, m.Detects)
		return
	case m.Biometric():
		v.add(p+".detect.model", useFix, "model %q (sha256 %s) is %s, a %s detector, whatever the file is called",
			d.Model, m.SHA256[:16], m.KnownAs, m.Detects)
		return
	case m.Person():
		return
	case d.Kind == "haar" && m.Structure == "":
		// Fail closed: a cascade whose structure edge cannot read could be
		// an edited face cascade, which a declaration must not clear.
		v.add(p+".detect.model", "use an OpenCV cascade XML file (uncompressed, as written by opencv_traincascade or haartraining), e.g. /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml, or kind: hog",
			"model %q (sha256 %s) is not a cascade edge can compare with the known face cascades: %v", d.Model, m.SHA256[:16], m.StructureErr)
		return
	}
	decl := d.ModelDeclaration
	const declFix = "add detect.model_declaration: {detects: person, declared_by: \"name, role\"} after checking the model detects whole people only, or use kind: hog"
	switch {
	case decl == nil:
		v.add(p+".detect.model_declaration", declFix, "model %q (sha256 %s) is not a known person detector and has no declaration", d.Model, m.SHA256[:16])
	case biometricModel.MatchString(decl.Detects) || !personTarget.MatchString(decl.Detects):
		v.add(p+".detect.model_declaration.detects", useFix, "declared target %q is not people", decl.Detects)
	case strings.TrimSpace(decl.DeclaredBy) == "":
		v.add(p+".detect.model_declaration.declared_by", "name who vouches for the model (name and role or contact); it goes to the audit log", "declaration has no author")
	}
}

// The layouts of a dnn network's output (detect.model_format); the
// detector decodes them (stages/detect).
var modelFormats = []string{"ssd", "yolov5", "yolov8"}

// validateNetwork checks the settings that describe a dnn network: they
// mean nothing to hog or haar, so they are refused there rather than ignored.
func (d *Detect) validateNetwork(v *validator, p string) {
	set := d.ModelFormat != "" || d.InputSize != [2]int{} || d.PersonClass != 0
	if d.Kind != "dnn" {
		if set {
			v.add(p+".detect", "remove model_format, input_size and person_class, or use kind: dnn", "model_format, input_size and person_class describe a dnn network, but kind is %q", d.Kind)
		}
		return
	}
	if d.ModelFormat != "" && !slices.Contains(modelFormats, d.ModelFormat) {
		v.add(p+".detect.model_format", fmt.Sprintf("use one of %s: ssd for OpenCV DetectionOutput [1,1,N,7], yolov5 for [1,N,85], yolov8 for [1,84,N] (docs/detection.md)", strings.Join(modelFormats, ", ")),
			"unknown model format %q", d.ModelFormat)
	}
	if in := d.InputSize; in != [2]int{} && (in[0] < 1 || in[1] < 1 || in[0] > 4096 || in[1] > 4096) {
		v.add(p+".detect.input_size", "write the network's fixed input as [width, height], 1..4096 each, e.g. [640, 640]; leave it out for the format's default", "input size %v is not [width, height]", d.InputSize)
	}
	switch {
	case d.PersonClass < 0:
		v.add(p+".detect.person_class", "use the class id of person in the network's labels (COCO YOLO: 0, VOC SSD: 15, COCO TensorFlow SSD: 1)", "person class %d is negative", d.PersonClass)
	case d.PersonClass > 1000:
		v.add(p+".detect.person_class", "use the class id of person in the network's labels (COCO YOLO: 0, VOC SSD: 15, COCO TensorFlow SSD: 1)", "person class %d is beyond any label set", d.PersonClass)
	}
	// Saying ssd by default of an ONNX export, nearly always a YOLO one,
	// would fail at start with a less helpful message.
	if strings.EqualFold(filepath.Ext(d.Model), ".onnx") && d.ModelFormat == "" {
		v.add(p+".detect.model_format", "declare the layout of the ONNX network's output: yolov5, yolov8 or ssd (docs/detection.md)", "an ONNX model needs model_format")
	}
}
