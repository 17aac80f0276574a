//go:build matprofile

package pipeline_test

import "gocv.io/x/gocv"

func init() { matLeaks = func() int { return gocv.MatProfile.Count() } }
