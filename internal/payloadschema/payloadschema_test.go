package payloadschema_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/payloadschema"
)

// The schemas accept what edge marshals and refuse what breaks the contract.
func TestSchemasCatchBrokenPayloads(t *testing.T) {
	s, err := payloadschema.Load(payloadschema.Event, payloadschema.State)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.Event{ID: events.NewID(), Type: events.TypeEnter, Site: "s", Camera: "c", Zone: "z", SignageID: "sg",
		Purpose: "crowd-safety", Label: events.LabelPerson, TrackID: 3, Score: 0.8123, Box: [4]float64{0.1, 0.2, 0.3, 0.4},
		TS: time.Now(), Occupancy: 1}
	good, _ := ev.Payload()
	if err := s.Validate(payloadschema.Event, good); err != nil {
		t.Fatalf("a well-formed event fails: %v\n%s", err, good)
	}
	for name, edit := range map[string]func(e *events.Event){
		"score above 1":    func(e *events.Event) { e.Score = 1.04 },
		"raw HOG margin":   func(e *events.Event) { e.Score = 2.8 },
		"negative box":     func(e *events.Event) { e.Box[0] = -0.1 },
		"unknown type":     func(e *events.Event) { e.Type = "loiter" },
		"track 0":          func(e *events.Event) { e.TrackID = 0 },
		"zone with slash":  func(e *events.Event) { e.Zone = "a/b" },
		"purpose not law":  func(e *events.Event) { e.Purpose = "marketing" },
		"not a uuid v7":    func(e *events.Event) { e.ID = "1234" },
		"label not person": func(e *events.Event) { e.Label = "face" },
	} {
		bad := ev
		edit(&bad)
		b, _ := bad.Payload()
		if err := s.Validate(payloadschema.Event, b); err == nil {
			t.Errorf("%s: accepted %s", name, b)
		}
	}
	extra := strings.Replace(string(good), `"label"`, `"embedding":[0.1],"label"`, 1)
	if err := s.Validate(payloadschema.Event, []byte(extra)); err == nil {
		t.Error("an event with an extra field (an embedding) is accepted")
	}

	st := events.State{Camera: "c", Status: events.StatusStreaming, Codec: "h264", Width: 640, Height: 360, TS: time.Now(),
		Zones: []events.ZoneState{{ID: "z", Kind: "monitored", SignageID: "sg", SignageStatus: events.SignageValid, DetectionActive: true, Occupancy: 2}}}
	b, _ := st.Payload()
	if err := s.Validate(payloadschema.State, b); err != nil {
		t.Fatalf("a well-formed state fails: %v\n%s", err, b)
	}
	st.Status = "sleeping"
	b, _ = st.Payload()
	if err := s.Validate(payloadschema.State, b); err == nil {
		t.Errorf("state with status sleeping accepted: %s", b)
	}
}
