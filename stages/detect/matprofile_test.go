//go:build matprofile

package detect_test

import (
	"bytes"
	"fmt"

	"gocv.io/x/gocv"
)

func checkMats() error {
	if n := gocv.MatProfile.Count(); n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		return fmt.Errorf("%d gocv Mats not closed:\n%s", n, b.String())
	}
	return nil
}
