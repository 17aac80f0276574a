package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/payloadschema"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/zones"
)

// TestClipPayloadsMatchDocumentedSchema runs each test clip through the
// production stages and checks every event and state against the JSON
// Schema files subscribers are given (docs/schema): scores in 0..1, boxes
// in 0..1, no field the docs do not name.
func TestClipPayloadsMatchDocumentedSchema(t *testing.T) {
	schemas, err := payloadschema.Load(payloadschema.Event, payloadschema.State)
	if err != nil {
		t.Fatal(err)
	}
	// Every clip whole: every event of a run of each test clip (#15).
	clips := []string{
		"../testvideos/vtest.mp4",
		"../testvideos/synthetic-walk.mp4",
		"../testvideos/scenarios/privacy-doorway/clip.mp4",
		"../testvideos/scenarios/unsigned-zone/clip.mp4",
		"../testvideos/scenarios/resolution-change/clip.ts",
	}
	signs := map[string]zones.Sign{"s": {ID: "s", Purpose: "crowd-safety", VerifiedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}}
	set := func() *zones.Set {
		return zones.NewSet([]zones.Zone{
			{ID: "door", Kind: zones.Privacy, Polygon: poly(0, 0, 0.05, 0, 0.05, 1, 0, 1)},
			{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: poly(0.05, 0, 1, 0, 1, 1, 0.05, 1)},
		}, signs)
	}
	total := 0
	for _, clip := range clips {
		t.Run(clip, func(t *testing.T) {
			sink := &collect{}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cfg := pipeline.CameraConfig{Site: "test", Camera: "cam", Source: pipeline.FileSource{Path: clip}, Zones: set(),
				Sink: sink, Offline: true, Start: start, DetectFPS: 3, Detect: detect.Config{Width: 640}}
			cam, err := pipeline.NewCamera(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := cam.Run(ctx); err != nil {
				t.Fatal(err)
			}
			var evs, states int
			for _, m := range sink.all() {
				var name string
				switch m.(type) {
				case events.Event:
					name, evs = payloadschema.Event, evs+1
				case events.State:
					name, states = payloadschema.State, states+1
				default:
					continue
				}
				b, err := m.Payload()
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas.Validate(name, b); err != nil {
					t.Errorf("%v\n%s", err, b)
				}
			}
			t.Logf("%d events, %d states valid", evs, states)
			if evs == 0 || states == 0 {
				t.Errorf("%d events and %d states: the clip should give both", evs, states)
			}
			total += evs
		})
	}
	t.Logf("%d events in all", total)
}
