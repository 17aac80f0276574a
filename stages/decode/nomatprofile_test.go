//go:build !matprofile

package decode_test

// checkMats needs gocv's Mat profile: run the tests with -tags matprofile.
func checkMats() error { return nil }
