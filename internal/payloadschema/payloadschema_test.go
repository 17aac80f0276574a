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
	s, err := payloadschema.Load(payloadschema.Event, payloadschema.State, payloadschema.Compliance, payloadschema.Alert)
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

	exp := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	comp := events.Compliance{Camera: "c", TS: time.Now().UTC(),
		Sign:    &events.SignStatus{ID: "sg", Status: "expired", Purpose: "crowd-safety", ExpiresAt: exp},
		Outputs: []events.OutputStatus{{Name: "restream", Reason: "camera sign sg expired"}, {Name: "record", Reason: "camera sign sg expired"}},
		Zones:   []events.ZoneCompliance{{ID: "z", Sign: events.SignStatus{ID: "zs", Status: "missing"}}}}
	for name, edit := range map[string]func(c *events.Compliance){
		"well-formed":                func(*events.Compliance) {},
		"no camera sign, no outputs": func(c *events.Compliance) { c.Sign, c.Outputs = nil, []events.OutputStatus{} },
	} {
		c := comp
		edit(&c)
		if b, _ := c.Payload(); s.Validate(payloadschema.Compliance, b) != nil {
			t.Errorf("compliance %s fails: %v\n%s", name, s.Validate(payloadschema.Compliance, b), b)
		}
	}
	for name, edit := range map[string]func(c *events.Compliance){
		"gated off without a reason": func(c *events.Compliance) { c.Outputs = []events.OutputStatus{{Name: "record"}} },
		"unknown output":             func(c *events.Compliance) { c.Outputs = []events.OutputStatus{{Name: "hls", Active: true}} },
		"unknown sign status":        func(c *events.Compliance) { c.Sign = &events.SignStatus{ID: "sg", Status: "ok"} },
		"purpose not law": func(c *events.Compliance) {
			c.Sign = &events.SignStatus{ID: "sg", Status: "valid", Purpose: "marketing"}
		},
	} {
		c := comp
		edit(&c)
		if b, _ := c.Payload(); s.Validate(payloadschema.Compliance, b) == nil {
			t.Errorf("compliance %s: accepted %s", name, b)
		}
	}

	al := events.Alert{ID: events.NewID(), Type: events.AlertReloadRejected, Site: "s", Message: "config reload rejected", Errors: []string{"signage[sg].purpose: not allowed"}, TS: time.Now().UTC()}
	if b, _ := al.Payload(); s.Validate(payloadschema.Alert, b) != nil {
		t.Fatalf("a well-formed alert fails: %v\n%s", s.Validate(payloadschema.Alert, b), b)
	}
	for name, edit := range map[string]func(a *events.Alert){
		"rejection without its errors": func(a *events.Alert) { a.Errors = nil },
		"sign alert naming no sign":    func(a *events.Alert) { a.Type = events.AlertSignExpired },
		"unknown type":                 func(a *events.Alert) { a.Type = "reload_failed" },
		"credentials in the message":   func(a *events.Alert) { a.Message = "rtsp://admin:hunter2@10.0.0.5/s" },
	} {
		a := al
		edit(&a)
		if b, _ := a.Payload(); s.Validate(payloadschema.Alert, b) == nil {
			t.Errorf("alert %s: accepted %s", name, b)
		}
	}
}
