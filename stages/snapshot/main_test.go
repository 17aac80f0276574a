package snapshot_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

var matLeaks func() int

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && matLeaks != nil {
		if n := matLeaks(); n != 0 {
			fmt.Fprintf(os.Stderr, "FAIL: %d gocv Mats were not closed\n", n)
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutine leak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
