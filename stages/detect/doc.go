// Package detect holds the person detection stage and its detectors.
//
// The stage sees only what the law allows it to see: for each masked frame
// it asks the zone set which pixels may be analysed at that moment
// (monitored zones with valid signage, minus privacy zones), crops the
// frame to their bounding box, paints every pixel outside them a constant
// grey, scales the crop down to Config.Width and hands only that to the
// Detector. Boxes come back in full-frame pixel coordinates.
//
// Detectors find people, nothing else: there is no face detection, face
// recognition or embedding here, by design (non-biometric methods only).
//
//   - "hog" (default): OpenCV's HOG + linear SVM people detector. It needs
//     no model file. Its raw score is the SVM margin of the best window in
//     each grouped cluster (0 is the decision boundary, strong hits are 1..3).
//   - "haar": an OpenCV cascade file, for example Debian opencv-data's
//     /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml. Cascades
//     give no confidence, so every raw box scores 1.
//   - "dnn": a network through OpenCV's dnn module (see DNNConfig): an
//     SSD-style DetectionOutput, or a YOLOv5- or YOLOv8-style ONNX export
//     decoded here (person class only, score floor, NMS, letterbox undone).
//     No weights ship with the project. Its raw score is the network's
//     probability.
//
// The stage turns every raw score into a confidence in 0..1 (Confidence,
// fitted as docs/detection.md describes) before min_score applies; the raw
// value appears only in debug logs.
//
// A Detector is used from one goroutine at a time.
package detect
