package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/fleet"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func retain(t *testing.T, c paho.Client, topic string, v any) {
	t.Helper()
	var b []byte
	switch p := v.(type) {
	case string:
		b = []byte(p)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	if tok := c.Publish(topic, 1, true, b); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func heartbeat(box string, age time.Duration, events1h map[string]int) events.Heartbeat {
	return events.Heartbeat{Site: "s", Box: box, TS: now.Add(-age), IntervalS: 1, Cameras: len(events1h), EventsLastHour: events1h, Build: "b1"}
}

func walkway(status string) events.State {
	return events.State{Camera: "lobby", Status: events.StatusStreaming, FramesDropped: 4, Zones: []events.ZoneState{
		{ID: "changing", Kind: "privacy"},
		{ID: "walkway", Kind: "monitored", SignageID: "walk-sign", SignageStatus: status},
	}}
}

// TestStatus publishes what boxes in every condition leave retained and
// checks each verdict.
func TestStatus(t *testing.T) {
	mq := mosquittotest.Start(t)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(mq.URL()).SetClientID("boxes"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(50)

	// up and compliant
	retain(t, c, "edge/s/ok/available", "online")
	retain(t, c, "edge/s/ok/heartbeat", heartbeat("ok", 1500*time.Millisecond, map[string]int{"lobby": 7}))
	retain(t, c, "edge/s/ok/lobby/state", walkway("valid"))
	retain(t, c, "edge/s/ok/lobby/compliance", `{"camera":"lobby","sign":{"id":"cam-sign","status":"expiring"},"outputs":[{"name":"restream","active":true}]}`)
	// "online" retained but silent: the node under it died, no will came
	retain(t, c, "edge/s/stale/available", "online")
	retain(t, c, "edge/s/stale/heartbeat", heartbeat("stale", 10*time.Second, nil))
	// stopped cleanly
	retain(t, c, "edge/s/off/available", "offline")
	retain(t, c, "edge/s/off/heartbeat", heartbeat("off", 0, nil))
	// up, but a zone sign expired and an output gated off
	retain(t, c, "edge/s/lapsed/available", "online")
	retain(t, c, "edge/s/lapsed/heartbeat", heartbeat("lapsed", 0, map[string]int{"lobby": 0}))
	retain(t, c, "edge/s/lapsed/lobby/state", walkway("expired"))
	retain(t, c, "edge/s/lapsed/lobby/compliance", `{"camera":"lobby","outputs":[{"name":"record","active":false,"reason":"camera sign expired"},{"name":"restream","active":true}]}`)
	// a camera removed from a config: not judged
	retain(t, c, "edge/s/ok/old/state", events.State{Camera: "old", Status: events.StatusStopped})
	// not edge boxes: a level that is not an id, another root
	retain(t, c, "edge/s.x/b/heartbeat", heartbeat("b", 0, nil))
	retain(t, c, "other/s/b/heartbeat", heartbeat("b", 0, nil))

	r, err := fleet.Collect(context.Background(), fleet.Options{Brokers: []string{"tcp://127.0.0.1:1", mq.URL()}, Wait: 500 * time.Millisecond, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	boxes := map[string]fleet.Box{}
	for _, b := range r.Boxes {
		boxes[b.Box] = b
	}
	if len(boxes) != 4 {
		t.Fatalf("boxes %v: want ok, stale, off, lapsed only", slices.Collect(maps.Keys(boxes)))
	}
	tests := []struct {
		box       string
		up        bool
		why       string
		compliant []bool
	}{
		{"ok", true, "", []bool{true}},
		{"stale", false, "heartbeat 10s old", nil},
		{"off", false, "offline", nil},
		{"lapsed", true, "", []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.box, func(t *testing.T) {
			b := boxes[tc.box]
			if b.Up != tc.up || !strings.Contains(b.Why, tc.why) {
				t.Errorf("up=%t why=%q, want up=%t why~%q", b.Up, b.Why, tc.up, tc.why)
			}
			var got []bool
			for _, c := range b.Cameras {
				got = append(got, c.Compliant)
			}
			if !slices.Equal(got, tc.compliant) {
				t.Errorf("cameras compliant %v, want %v (%+v)", got, tc.compliant, b.Cameras)
			}
		})
	}
	ok, lapsed := boxes["ok"].Cameras[0], boxes["lapsed"].Cameras[0]
	if ok.EventsLastHour != 7 || ok.Drops != 4 || !slices.Equal(ok.SignsExpiring, []string{"cam-sign"}) || len(ok.SignsExpired) != 0 {
		t.Errorf("ok/lobby %+v", ok)
	}
	if !slices.Equal(lapsed.SignsExpired, []string{"walk-sign"}) || !slices.Equal(lapsed.OutputsGated, []string{"record"}) {
		t.Errorf("lapsed/lobby %+v", lapsed)
	}
	if r.Down != 2 || r.NonCompliant != 1 || r.Healthy() {
		t.Errorf("down %d non-compliant %d healthy %t: want 2, 1, false", r.Down, r.NonCompliant, r.Healthy())
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"UP   s/ok heartbeat=2s ago", "DOWN s/stale", "DOWN s/off",
		"s/ok/lobby ok status=streaming signs_expired=- signs_expiring=cam-sign outputs_gated=- drops=4 events_1h=7",
		"s/lapsed/lobby OUT-OF-COMPLIANCE", "4 boxes, 2 down, 1 cameras out of compliance",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	// Healthy once the bad boxes are gone (empty retained payloads clear them).
	for _, topic := range []string{"edge/s/stale/available", "edge/s/stale/heartbeat", "edge/s/off/available", "edge/s/off/heartbeat",
		"edge/s/lapsed/available", "edge/s/lapsed/heartbeat", "edge/s/lapsed/lobby/state", "edge/s/lapsed/lobby/compliance"} {
		retain(t, c, topic, "")
	}
	r, err = fleet.Collect(context.Background(), fleet.Options{Brokers: []string{mq.URL()}, Wait: 500 * time.Millisecond, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Healthy() || len(r.Boxes) != 1 {
		t.Errorf("after clearing: %d boxes, healthy %t", len(r.Boxes), r.Healthy())
	}
}

func TestCollectRefuses(t *testing.T) {
	for name, o := range map[string]fleet.Options{
		"no broker":     {},
		"root with dot": {Brokers: []string{"tcp://127.0.0.1:1"}, Root: "edge.eu"},
		"unreachable":   {Brokers: []string{"tcp://127.0.0.1:1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := fleet.Collect(context.Background(), o); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestBench runs a small simulated fleet against a real broker: every event
// arrives, ids are unique across boxes, and the fleet view lists every box up.
func TestBench(t *testing.T) {
	mq := mosquittotest.Start(t)
	res, err := fleet.Bench(context.Background(), fleet.BenchOptions{
		Brokers: []string{mq.URL()}, Boxes: 5, Events: 40, SpoolDir: t.TempDir(), Timeout: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Produced != 200 || res.Delivered != 200 || res.EventsPerSecond <= 0 {
		t.Errorf("result %+v: want 200 produced and delivered", res)
	}
	if res.Status == nil || len(res.Status.Boxes) != 5 || res.Status.Down != 0 {
		t.Fatalf("status %+v: want 5 boxes up", res.Status)
	}
	for _, b := range res.Status.Boxes {
		if len(b.Cameras) != 1 || b.Cameras[0].Status != "streaming" || b.Heartbeat == nil || b.Heartbeat.Build != "bench" {
			t.Errorf("box %s: %+v", b.Box, b)
		}
	}
	t.Logf("%d boxes, %.0f events/s through mosquitto", res.Boxes, res.EventsPerSecond)
}
