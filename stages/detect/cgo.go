package detect

// The C++ wrappers in this package call the OpenCV overload gocv v0.31 does
// not expose (HOG with weights) and catch the OpenCV exceptions that gocv
// lets escape into cgo, where they abort the process (a malformed cascade
// or network file must be a config error, not a crash). They link the same
// system OpenCV as gocv and take gocv Mats by their C pointer.

/*
#cgo pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
*/
import "C"

import "strings"

// cMsg returns a C error message without the trailing newline OpenCV adds.
func cMsg(p *C.char) string { return strings.TrimSpace(C.GoString(p)) }
