package rtspserver

// SetEqual replaces the comparison of secret-dependent fields for a test and
// returns a function that puts the real one back.
func SetEqual(f func(a, b string) int) (restore func()) {
	old := equal
	equal = f
	return func() { equal = old }
}
