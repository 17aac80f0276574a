//go:build matprofile

package decode_test

import (
	"fmt"
	"strings"

	"gocv.io/x/gocv"
)

func checkMats() error {
	if n := gocv.MatProfile.Count(); n != 0 {
		var b strings.Builder
		gocv.MatProfile.WriteTo(&b, 1)
		return fmt.Errorf("%d gocv.Mat not closed:\n%s", n, b.String())
	}
	return nil
}
