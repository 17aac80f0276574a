//go:build !matprofile

package motion_test

// checkMats needs -tags matprofile to count Mats; without it there is nothing to check.
func checkMats() error { return nil }
