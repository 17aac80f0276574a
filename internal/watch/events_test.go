package watch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/internal/watch"
)

// TestEventsPrintsOnlyEvents: edge run --print (the demo's terminal) shows
// one line per event and nothing of the retained state, heartbeat,
// availability, compliance, occupancy, snapshots or alerts a subscriber to
// the prefix also receives.
func TestEventsPrintsOnlyEvents(t *testing.T) {
	m := mosquittotest.Start(t)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("events-test-pub"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	pub := func(topic, payload string, retained bool) {
		t.Helper()
		if tok := c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	const p = "edge/s/b"
	event := func(id string) string {
		return `{"id":"` + id + `","type":"enter","camera":"lobby","zone":"hall","track_id":1,"occupancy":1,"score":0.9,"ts":"2026-05-01T12:00:00Z"}`
	}
	// Retained before the subscriber comes: it receives them at once.
	pub(p+"/available", "online", true)
	pub(p+"/heartbeat", `{"site":"s","box":"b","cameras":1}`, true)
	pub(p+"/lobby/state", `{"camera":"lobby","status":"streaming"}`, true)
	pub(p+"/lobby/compliance", `{"camera":"lobby","outputs":[]}`, true)
	pub(p+"/lobby/hall/occupancy", "1", true)

	var out syncbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- watch.Events(ctx, m.URL(), "", "", p, &out) }()
	// Until the subscription is in place, events published are not seen:
	// publish the first one until it shows.
	waitFor(t, "the first event printed:\n"+out.String(), 15*time.Second, func() bool {
		if !strings.Contains(out.String(), "first") {
			pub(p+"/lobby/events", event("first"), false)
			time.Sleep(100 * time.Millisecond)
		}
		return strings.Contains(out.String(), "first")
	})
	pub(p+"/lobby/state", `{"camera":"lobby","status":"streaming"}`, true)
	pub(p+"/lobby/snapshot", "\xff\xd8 jpeg", true)
	pub(p+"/alerts", `{"type":"sign_expiring","message":"m"}`, false)
	pub(p+"/lobby/hall/occupancy", "0", true)
	pub(p+"/lobby/events", event("last"), false) // after all the others on one connection
	waitFor(t, "the last event printed:\n"+out.String(), 10*time.Second, func() bool { return strings.Contains(out.String(), "last") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "EVENT ") {
			t.Errorf("printed a line that is not an event: %q", l)
		}
	}
	if len(lines) < 2 {
		t.Fatalf("printed %d lines, want the two events at least:\n%s", len(lines), out.String())
	}
}
