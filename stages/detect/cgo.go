package detect

// The C++ wrappers in this package call the OpenCV overloads gocv v0.31 does
// not expose (HOG with weights) and catch OpenCV exceptions that gocv lets
// abort the process (dnn). They link the same system OpenCV as gocv.

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
*/
import "C"
