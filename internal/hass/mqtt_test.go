package hass_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/internal/hass"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/stages/publish"
)

func connect(t *testing.T, url, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// retained returns the retained messages under filter, as a subscriber that
// connects now sees them (Home Assistant starting).
func retained(t *testing.T, url, filter string) map[string]string {
	t.Helper()
	c := connect(t, url, "ha-"+strings.ReplaceAll(t.Name(), "/", "-")+time.Now().Format("150405.000000"))
	var mu sync.Mutex
	got := map[string]string{}
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		if m.Retained() {
			mu.Lock()
			got[m.Topic()] = string(m.Payload())
			mu.Unlock()
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	// Retained messages follow the SUBACK at once on a local broker.
	time.Sleep(300 * time.Millisecond)
	c.Disconnect(50)
	mu.Lock()
	defer mu.Unlock()
	return got
}

func pub(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	if tok := c.Publish(topic, 1, true, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// TestDiscoveryOnMosquitto runs the publisher against a real broker: Home
// Assistant connecting afterwards finds every config retained; a config an
// earlier run left for a camera no longer configured is cleared, another
// box's configs are not touched; a removed zone's entities go away.
func TestDiscoveryOnMosquitto(t *testing.T) {
	m := mosquittotest.Start(t)
	cfg := load(t, siteYAML)
	const prefix = "edge/gym"
	ds := hass.Configs(cfg, prefix)
	owned := hass.Owned(cfg, prefix)
	if len(owned) != 1 {
		t.Fatalf("owned filters %v", owned)
	}

	// Leftovers: one of ours (a camera since removed), one of another box.
	node := strings.Split(ds[0].ConfigTopic, "/")[2]
	stale := "homeassistant/sensor/" + node + "/gone_status_0000/config"
	foreign := "homeassistant/sensor/other_box/hall_status_1234/config"
	seed := connect(t, m.URL(), "seed")
	pub(t, seed, stale, `{"name":"status","state_topic":"edge/gym/gone/state","unique_id":"x"}`)
	pub(t, seed, foreign, `{"name":"status","state_topic":"other/hall/state","unique_id":"y"}`)

	p, err := publish.New(publish.Config{
		Broker: m.URL(), ClientID: "edge-hass-test", QoS: 1, TopicPrefix: prefix, SpoolDir: t.TempDir(),
		PublishTimeout: 3 * time.Second, ConnectRetryInterval: 100 * time.Millisecond, Owned: owned,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if !p.Offer(d) {
			t.Fatal("offer refused")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	want := map[string]string{}
	for _, d := range ds {
		want[d.ConfigTopic] = string(d.Config)
	}
	var got map[string]string
	deadline := time.Now().Add(15 * time.Second)
	for {
		got = retained(t, m.URL(), "homeassistant/#")
		_, staleLeft := got[stale]
		complete := !staleLeft
		for topic, payload := range want {
			if got[topic] != payload {
				complete = false
			}
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retained configs after 15 s: %d of %d, stale left: %v\n%s", len(got), len(want), staleLeft, m.Log())
		}
	}
	if got[foreign] == "" {
		t.Error("another box's retained config was cleared")
	}
	if len(got) != len(want)+1 {
		t.Errorf("%d retained configs, want ours (%d) and the other box's", len(got), len(want))
	}

	// A reload that drops the bench zone removes its two entities.
	next := load(t, strings.Replace(siteYAML, `      - id: bench
        kind: monitored
        signage: hall-sign
        polygon: [[0.3, 0], [1, 0], [1, 0.2]]
`, "", 1))
	nds := hass.Configs(next, prefix)
	rm := hass.Removed(ds, nds)
	if len(rm) != 2 {
		t.Fatalf("removing one zone removes %d entities, want 2", len(rm))
	}
	for _, d := range append(rm, nds...) {
		p.Offer(d)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		got = retained(t, m.URL(), "homeassistant/#")
		gone := true
		for _, d := range rm {
			if _, ok := got[d.ConfigTopic]; ok {
				gone = false
			}
		}
		if gone && len(got) == len(nds)+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after removing a zone: %d retained configs, want %d", len(got), len(nds)+1)
		}
	}
}
