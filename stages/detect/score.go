package detect

import "math"

// Confidences: every detector's raw output is mapped to a confidence in
// 0..1 before min_score applies and before anything is published, so that
// one threshold means the same for every kind. docs/detection.md says how
// the mappings were fitted; calibration_test.go refits them and fails when
// the code drifts from the data.
var (
	// hogCalibration is Platt scaling of the SVM margin:
	// 1/(1+exp(-(a*margin+b))).
	hogCalibration = struct{ a, b float64 }{a: 1.663, b: -1.291}
	// haarConfidence is the full-body cascade's precision on the
	// calibration set: a cascade has no score of its own (every box is 1).
	haarConfidence = 0.97
)

// Confidence maps a detector's raw score to a confidence in 0..1: the HOG
// SVM margin through a logistic fitted on labelled data, a cascade's hit to
// its measured precision, and a network's own probability (dnn, and any
// other detector, which must give 0..1 itself) clamped to 0..1. NaN is 0.
func Confidence(kind string, raw float64) float64 {
	if math.IsNaN(raw) {
		return 0
	}
	switch kind {
	case KindHOG:
		return 1 / (1 + math.Exp(-(hogCalibration.a*raw + hogCalibration.b)))
	case KindHaar:
		if raw <= 0 {
			return 0
		}
		return haarConfidence
	}
	return min(max(raw, 0), 1)
}

// kindOf names the calibration that fits det's raw scores.
func kindOf(det Detector) string {
	switch det.(type) {
	case *HOG:
		return KindHOG
	case *Haar:
		return KindHaar
	}
	return KindDNN // a probability already
}
