//go:build matprofile

package mask_test

import "gocv.io/x/gocv"

func init() { matLeaks = func() int { return gocv.MatProfile.Count() } }
