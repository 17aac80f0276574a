//go:build !maskshift

package mask

// FaultInjected says this build paints a deliberately broken mask (only
// builds with -tags maskshift, which exist to prove that verify catches one).
const FaultInjected = false
