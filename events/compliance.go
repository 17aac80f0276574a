package events

import (
	"time"
)

// ComplianceTopic is {prefix}/{camera}/compliance.
func ComplianceTopic(prefix, camera string) string { return prefix + "/" + camera + "/compliance" }

// AlertsTopic is {prefix}/alerts.
func AlertsTopic(prefix string) string { return prefix + "/alerts" }

// Compliance is what a camera may do now and why, published as retained JSON
// on {prefix}/{camera}/compliance whenever it changes: the camera sign that
// permits its image outputs, each output (running or gated off, and why),
// and each monitored zone's sign (analysed or not).
type Compliance struct {
	latest        // delivery: subscribers see the current status at once
	Camera string `json:"camera"`
	// Sign is the camera's own sign (image outputs); nil when it has none.
	Sign *SignStatus `json:"sign,omitempty"`
	// Outputs are the image outputs switched on in the config.
	Outputs []OutputStatus `json:"outputs"`
	// Zones are the monitored zones and their signs.
	Zones []ZoneCompliance `json:"zones"`
	TS    time.Time        `json:"ts"`
}

// SignStatus is a sign's lifecycle at TS.
type SignStatus struct {
	ID string `json:"id"`
	// Status is "valid", "expiring" (within 7 days), "expired", "not yet
	// valid" or "missing".
	Status    string    `json:"status"`
	Purpose   string    `json:"purpose,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// OutputStatus is one image output: "restream", "record" or "snapshots".
type OutputStatus struct {
	Name string `json:"name"`
	// Active is false while the output is gated off.
	Active bool `json:"active"`
	// Reason says why it is gated off.
	Reason string `json:"reason,omitempty"`
}

// ZoneCompliance is a monitored zone's sign and whether it is analysed.
type ZoneCompliance struct {
	ID       string     `json:"id"`
	Sign     SignStatus `json:"sign"`
	Analysed bool       `json:"analysed"`
}

// Topic implements Message.
func (c Compliance) Topic(prefix string) string { return ComplianceTopic(prefix, c.Camera) }

// Payload implements Message: the status as JSON.
func (c Compliance) Payload() ([]byte, error) {
	return marshal(c, "compliance of "+c.Camera)
}

// Alert types.
const (
	AlertSignExpired    = "sign_expired"
	AlertSignExpiring   = "sign_expiring"
	AlertSignPending    = "sign_not_yet_valid"
	AlertReloadAccepted = "reload_accepted"
	AlertReloadRejected = "reload_rejected"
	AlertCameraRefused  = "camera_refused"
	// AlertAuditFailed says audit records could not be written (the log's
	// folder failed, or another writer held audit.lock too long).
	AlertAuditFailed = "audit_failed"
)

// Alert is something an operator must act on (or know about), published as
// JSON, not retained, on {prefix}/alerts and spooled until delivered.
type Alert struct {
	news        // delivery: an alert is news, not a state
	ID   string `json:"id"`
	Type string `json:"type"`
	Site string `json:"site"`
	// Camera and Sign name what the alert is about, when it is one.
	Camera string `json:"camera,omitempty"`
	Sign   string `json:"sign,omitempty"`
	// Message says what happened and what to do, in words.
	Message string `json:"message"`
	// Errors lists a rejected config's problems, one per entry.
	Errors []string  `json:"errors,omitempty"`
	TS     time.Time `json:"ts"`
}

// Topic implements Message.
func (Alert) Topic(prefix string) string { return AlertsTopic(prefix) }

// Payload implements Message: the alert as JSON.
func (a Alert) Payload() ([]byte, error) {
	return marshal(a, "alert "+a.Type)
}

// ClearSnapshot removes the retained snapshot of a camera from the broker
// (an empty retained message), when it has been kept long enough or the
// camera's sign no longer permits pictures.
type ClearSnapshot struct {
	latest // delivery: only a retained empty message clears one
	Camera string
}

// Topic implements Message.
func (c ClearSnapshot) Topic(prefix string) string { return SnapshotTopic(prefix, c.Camera) }

// Payload implements Message: empty, which deletes a retained message.
func (ClearSnapshot) Payload() ([]byte, error) { return []byte{}, nil }
