//go:build maskshift

package mask

// A deliberately broken mask for testing verification: painted spans are
// shifted two pixels left, so the right edge of every privacy zone leaks.
// Never ship a binary built with -tags maskshift.
func init() { spanShift = 2 }
