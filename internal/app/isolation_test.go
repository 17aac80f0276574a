package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/replay"
)

// isolationConfig: hall is vtest at 640 wide, where HOG can see its people
// (at 320 they are 21..46 px tall, under its 128 px window: only stray
// boxes were found, and with grey crops none strong enough to start a
// track).
const isolationConfig = `
site: iso
box_id: b1
mqtt: {broker: "%s", topic_prefix: iso, spool_dir: %s}
audit: {dir: %s}
cameras:
  - id: hall
    url: %s
    detect: {fps: 2, width: 640}
    zones:
      - {id: floor, kind: monitored, signage: s1, polygon: [[0, 0.1], [1, 0.1], [1, 1], [0, 1]]}
  - id: tiny
    url: %s
    zones:
      - {id: floor, kind: monitored, signage: s1, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, purpose_detail: counting, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-01-01T00:00:00Z}
`

// TestDegenerateCameraStopsOnlyItself runs edge with two cameras over real
// loopback RTSP and a real mosquitto: "hall" replays vtest (people
// walking), "tiny" a 16x16 stream, which crashed OpenCV before. For 20 s
// the healthy camera must keep publishing events and state while the tiny
// one reports status unsupported with the reason, and edge keeps running.
func TestDegenerateCameraStopsOnlyItself(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	testclip.Need(t)
	tiny := testclip.Make(t, ".mp4", "-t", "10", "-vf", "scale=16:16", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10")
	cams, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4", tiny}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cams.Start(); err != nil {
		t.Fatal(err)
	}
	defer cams.Close()
	mq := mosquittotest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	hallURL, tinyURL := cams.URLs()[0], cams.URLs()[1]
	if !strings.Contains(hallURL, "vtest") {
		hallURL, tinyURL = tinyURL, hallURL
	}
	writeFile(t, path, fmt.Sprintf(isolationConfig, mq.URL(), filepath.Join(dir, "spool"), filepath.Join(dir, "audit"), hallURL, tinyURL))
	prefix := events.Prefix("iso", "iso", "b1")

	var mu sync.Mutex
	counts := map[string]int{}
	states := map[string]events.State{}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(mq.URL()).SetClientID("isolation-test").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	tok := c.Subscribe(prefix+"/#", 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		defer mu.Unlock()
		counts[m.Topic()]++
		for _, cam := range []string{"hall", "tiny"} {
			if m.Topic() == events.StateTopic(prefix, cam) {
				var s events.State
				if json.Unmarshal(m.Payload(), &s) == nil {
					states[cam] = s
				}
			}
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	snapshot := func() (map[string]int, map[string]events.State) {
		mu.Lock()
		defer mu.Unlock()
		cs, ss := map[string]int{}, map[string]events.State{}
		for k, v := range counts {
			cs[k] = v
		}
		for k, v := range states {
			ss[k] = v
		}
		return cs, ss
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, KeyPath: filepath.Join(dir, "key", "device.key"), HTTPAddr: "off", Logger: quietLogger()})
	}()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, ss := snapshot()
		if ss["hall"].Status == events.StatusStreaming && ss["tiny"].Status == events.StatusUnsupported {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no streaming hall and unsupported tiny within 60 s: hall %+v\ntiny %+v", ss["hall"], ss["tiny"])
		}
	}
	c0, _ := snapshot()
	const window = 20 * time.Second
	select {
	case err := <-done:
		t.Fatalf("edge stopped: %v", err)
	case <-time.After(window):
	}
	c1, ss := snapshot()
	delta := func(topic string) int { return c1[topic] - c0[topic] }
	hallEvents, hallStates := delta(events.EventsTopic(prefix, "hall")), delta(events.StateTopic(prefix, "hall"))
	tinyEvents, tinyStates := delta(events.EventsTopic(prefix, "tiny")), delta(events.StateTopic(prefix, "tiny"))
	t.Logf("in %v: hall %d events, %d states (decoded %d, status %s); tiny %d events, %d states (status %s, reason %q, unsupported %d)",
		window, hallEvents, hallStates, ss["hall"].FramesDecoded, ss["hall"].Status,
		tinyEvents, tinyStates, ss["tiny"].Status, ss["tiny"].Reason, ss["tiny"].Drops["unsupported"])
	if hallEvents == 0 || hallStates < 3 || ss["hall"].Status != events.StatusStreaming || ss["hall"].FramesDecoded == 0 {
		t.Errorf("the healthy camera stalled beside the degenerate one")
	}
	if ss["tiny"].Status != events.StatusUnsupported || !strings.Contains(ss["tiny"].Reason, "16x16") || tinyEvents != 0 || ss["tiny"].Drops["unsupported"] == 0 {
		t.Errorf("tiny camera state %+v, want unsupported naming 16x16, no events", ss["tiny"])
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("edge did not stop")
	}
}
