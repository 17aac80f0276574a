package events

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event types.
const (
	TypeEnter = "enter"
	TypeExit  = "exit"
)

// LabelPerson is the only label the pipeline detects.
const LabelPerson = "person"

// Event says that a tracked person entered or left a monitored zone.
// It is published as JSON on {prefix}/{camera}/events.
type Event struct {
	news // delivery: kept on disk until the broker acknowledged it
	// ID is unique and time-ordered (UUIDv7); subscribers dedupe by it, since
	// delivery is at least once.
	ID string `json:"id"`
	// Type is TypeEnter or TypeExit.
	Type      string `json:"type"`
	Site      string `json:"site"`
	Camera    string `json:"camera"`
	Zone      string `json:"zone"`
	SignageID string `json:"signage_id"`
	// Purpose is the registered purpose of the zone's signage, carried on
	// every event for accountability.
	Purpose string `json:"purpose"`
	// PurposeDetail is the sign's free-text account of the purpose, when it
	// has one.
	PurposeDetail string `json:"purpose_detail,omitempty"`
	// Label is LabelPerson.
	Label string `json:"label"`
	// TrackID is an anonymous per-camera track number, not an identity.
	TrackID int `json:"track_id"`
	// Score is the detection's confidence, 0..1 whatever the detector
	// (calibrated, see docs/detection.md).
	Score float64 `json:"score"`
	// Box is x, y, width, height normalised to 0..1 of the frame.
	Box [4]float64 `json:"box"`
	// TS is when the frame was captured; marshalled as RFC 3339 with
	// fractional seconds.
	TS time.Time `json:"ts"`
	// Occupancy is the zone's count after this event.
	Occupancy int `json:"occupancy"`
	// Snapshot optionally names a masked snapshot (a path or URL); never
	// image data.
	Snapshot string `json:"snapshot,omitempty"`
}

// NewID returns a fresh time-ordered unique event id (UUIDv7).
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when crypto/rand does, and then nothing else works.
		panic(fmt.Sprintf("events: uuid.NewV7: %v", err))
	}
	return id.String()
}

// EventsTopic is {prefix}/{camera}/events.
func EventsTopic(prefix, camera string) string { return prefix + "/" + camera + "/events" }

// StateTopic is {prefix}/{camera}/state.
func StateTopic(prefix, camera string) string { return prefix + "/" + camera + "/state" }

// OccupancyTopic is {prefix}/{camera}/{zone}/occupancy.
func OccupancyTopic(prefix, camera, zone string) string {
	return prefix + "/" + camera + "/" + zone + "/occupancy"
}

// AvailabilityTopic is {prefix}/available, where the sink says "online"
// and its last will says "offline".
func AvailabilityTopic(prefix string) string { return prefix + "/available" }

// Availability payloads.
const (
	Online  = "online"
	Offline = "offline"
)

// MarshalJSON writes TS with fractional seconds in UTC, so that events sort
// and compare as text, the box rounded to 4 decimals (a tenth of a pixel
// at 4K) and the score to 3: more digits are noise, not precision.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // no methods: no recursion
	p := plain(e)
	for i, v := range p.Box {
		p.Box[i] = round(v, 1e4)
	}
	p.Score = round(p.Score, 1e3)
	return json.Marshal(struct {
		plain
		TS string `json:"ts"`
	}{p, e.TS.UTC().Format(time.RFC3339Nano)})
}

func round(v, scale float64) float64 { return math.Round(v*scale) / scale }

// Topic implements Message.
func (e Event) Topic(prefix string) string { return EventsTopic(prefix, e.Camera) }

// Payload implements Message: the event as JSON.
func (e Event) Payload() ([]byte, error) {
	return marshal(e, "event "+e.ID)
}

// Occupancy is the current count of people in one zone, published as plain
// text (e.g. "3") and retained on {prefix}/{camera}/{zone}/occupancy.
type Occupancy struct {
	latest // delivery: the broker keeps the latest count
	Camera string
	Zone   string
	Count  int
}

// Topic implements Message.
func (o Occupancy) Topic(prefix string) string { return OccupancyTopic(prefix, o.Camera, o.Zone) }

// Payload implements Message: the count as decimal text.
func (o Occupancy) Payload() ([]byte, error) { return strconv.AppendInt(nil, int64(o.Count), 10), nil }
