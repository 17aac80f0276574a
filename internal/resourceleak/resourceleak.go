// Package resourceleak ends a test binary with the two leak checks every
// package that touches frames owes: no goroutine left running (goleak), and,
// in builds with -tags matprofile, no gocv.Mat left open.
package resourceleak

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main runs the tests and fails the binary on a leak. Use it as
//
//	func TestMain(m *testing.M) { resourceleak.Main(m) }
func Main(m *testing.M, opts ...goleak.Option) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: goroutine leak:", err)
			code = 1
		}
		if err := checkMats(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			code = 1
		}
	}
	os.Exit(code)
}
