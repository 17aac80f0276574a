//go:build matprofile

package snapshot_test

import "gocv.io/x/gocv"

func init() { matLeaks = func() int { return gocv.MatProfile.Count() } }
