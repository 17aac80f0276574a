package events

import (
	"encoding/json"
	"time"

	"github.com/edgeprivacy/edge/internal/redact"
)

// Camera statuses.
const (
	StatusConnecting = "connecting"
	StatusStreaming  = "streaming"
	StatusError      = "error"
	// StatusStopped: the camera was removed or disabled by a config reload.
	StatusStopped = "stopped"
	// StatusUnsupported: the camera streams, but pictures edge refuses
	// (such as a size outside what it accepts); Reason says why and how to fix it.
	StatusUnsupported = "unsupported"
)

// Signage statuses of a zone. Detection runs only where it is SignageValid.
const (
	SignageValid   = "valid"
	SignageExpired = "expired"
	SignageMissing = "missing"
	SignagePending = "pending"
)

// State is a camera's health, throughput and compliance status, published as
// retained JSON on {prefix}/{camera}/state.
type State struct {
	latest        // delivery: the broker keeps the latest state
	Camera string `json:"camera"`
	// Status is StatusConnecting, StatusStreaming, StatusError,
	// StatusUnsupported or StatusStopped.
	Status string `json:"status"`
	// Reason explains StatusError and StatusUnsupported. Payload hides any user:password in URLs
	// it contains, but producers should redact it themselves.
	Reason        string  `json:"reason,omitempty"`
	Codec         string  `json:"codec"`
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	InputFPS      float64 `json:"input_fps"`
	ProcessedFPS  float64 `json:"processed_fps"`
	FramesDecoded uint64  `json:"frames_decoded"`
	FramesMasked  uint64  `json:"frames_masked"`
	// FramesDropped is the sum of Drops.
	FramesDropped uint64 `json:"frames_dropped"`
	// Drops counts dropped frames per cause ("ingest", "decode", "mask",
	// "detect", ...).
	Drops map[string]uint64 `json:"drops"`
	// Detections counts frames offered to person detection since the
	// pipeline started: requested (after the detect.fps cap), served
	// (analysed), skipped (replaced by a newer frame while the box's
	// detector pool was busy, or nothing analysable).
	Detections *DetectionStats `json:"detections,omitempty"`
	Zones      []ZoneState     `json:"zones"`
	TS         time.Time       `json:"ts"`
}

// DetectionStats are a camera's detection requests in State.
type DetectionStats struct {
	Requested uint64 `json:"requested"`
	Served    uint64 `json:"served"`
	Skipped   uint64 `json:"skipped"`
}

// ZoneState is one zone of a camera as seen in State.
type ZoneState struct {
	ID string `json:"id"`
	// Kind is "privacy" or "monitored".
	Kind      string `json:"kind"`
	SignageID string `json:"signage_id,omitempty"`
	// SignageStatus is SignageValid, SignageExpired, SignageMissing or
	// SignagePending; empty for privacy zones.
	SignageStatus string `json:"signage_status,omitempty"`
	// DetectionActive says people are being detected in this zone now.
	DetectionActive bool `json:"detection_active"`
	Occupancy       int  `json:"occupancy"`
}

// MarshalJSON writes TS in UTC with fractional seconds, Drops and Zones as
// {} and [] rather than null, and the Reason redacted.
func (s State) MarshalJSON() ([]byte, error) {
	type plain State
	p := plain(s)
	p.Reason = redact.Text(p.Reason)
	if p.Drops == nil {
		p.Drops = map[string]uint64{}
	}
	if p.Zones == nil {
		p.Zones = []ZoneState{}
	}
	return json.Marshal(struct {
		plain
		TS string `json:"ts"`
	}{p, s.TS.UTC().Format(time.RFC3339Nano)})
}

// Topic implements Message.
func (s State) Topic(prefix string) string { return StateTopic(prefix, s.Camera) }

// Payload implements Message: the state as JSON.
func (s State) Payload() ([]byte, error) {
	return marshal(s, "state of camera "+s.Camera)
}
