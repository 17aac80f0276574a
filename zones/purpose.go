package zones

import (
	"slices"
	"strings"
)

// Purpose is the registered purpose of a sign: why people may be analysed
// where it hangs. The seeds allow surveillance in public places "only for the
// purpose of maintaining public safety", so the vocabulary is public safety
// and its named sub-purposes, nothing else (no marketing, profiling,
// attendance or identity).
type Purpose string

// The purposes a sign may declare. Each is a kind of public safety.
const (
	// PurposePublicSafety is the general purpose the seeds name.
	PurposePublicSafety Purpose = "public-safety"
	// PurposeCrowdSafety is occupancy and crowding (crush, queue) control.
	PurposeCrowdSafety Purpose = "crowd-safety"
	// PurposeFireSafety is occupancy limits and evacuation counts.
	PurposeFireSafety Purpose = "fire-safety"
	// PurposeTrafficSafety is pedestrians at roads, platforms, car parks.
	PurposeTrafficSafety Purpose = "traffic-safety"
	// PurposeEmergencyResponse is knowing whether people are present in an
	// emergency (a fall, a flood, a gas alarm).
	PurposeEmergencyResponse Purpose = "emergency-response"
)

// Purposes lists every allowed purpose, in documentation order.
var Purposes = []Purpose{
	PurposePublicSafety, PurposeCrowdSafety, PurposeFireSafety, PurposeTrafficSafety, PurposeEmergencyResponse,
}

// Allowed reports whether p is one of Purposes, spelled exactly.
func (p Purpose) Allowed() bool { return slices.Contains(Purposes, p) }

// PurposeList renders Purposes for error messages: "public-safety, crowd-safety, ...".
func PurposeList() string {
	s := make([]string, len(Purposes))
	for i, p := range Purposes {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
