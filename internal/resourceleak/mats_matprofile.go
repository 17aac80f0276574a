//go:build matprofile

package resourceleak

import (
	"fmt"
	"strings"

	"gocv.io/x/gocv"
)

// MatCheck says whether this build counts gocv Mats.
const MatCheck = true

func checkMats() error {
	if n := gocv.MatProfile.Count(); n != 0 {
		var b strings.Builder
		_ = gocv.MatProfile.WriteTo(&b, 1)
		return fmt.Errorf("%d gocv.Mat not closed:\n%s", n, b.String())
	}
	return nil
}
