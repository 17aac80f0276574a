//go:build maskshift

package mask

// FaultInjected says this build paints a deliberately broken mask. Tools
// refuse to run production with it and stamp it into their reports.
const FaultInjected = true

// A deliberately broken mask for testing verification: painted spans are
// shifted two pixels left, so the right edge of every privacy zone leaks.
// Never ship a binary built with -tags maskshift.
func init() { spanShift = 2 }
