//go:build rabbitmq

package fleet_test

// The RabbitMQ ACL example of docs/acl (rabbitmq.sh), run against a real
// rabbitmq-server with the MQTT plugin by `make test-rabbitmq` (RabbitMQ
// takes too long to start for make test).

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/internal/rabbitmqtest"
)

func TestACLExampleRabbitMQ(t *testing.T) {
	script, err := filepath.Abs("../../docs/acl/rabbitmq.sh")
	if err != nil {
		t.Fatal(err)
	}
	c := rabbitmqtest.Start(t, 1, rabbitmqtest.WithoutAnonymous())
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(c.Logs())
		}
	})
	nd := c.Nodes[0]
	cmd := exec.Command("sh", script)
	cmd.Env = append(nd.Env(), "BOX_PASSWORD=site1-box1-pw", "MONITOR_PASSWORD=fleet-monitor-pw")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	url := nd.URL()

	// guest (RabbitMQ's default user, all permissions, allowed from
	// loopback here) sees every topic, the monitor what its ACL lets it read.
	all, fromMonitor := watch(t, url, "all", "guest", "guest", "#"), watch(t, url, "monitor", "fleet-monitor", "fleet-monitor-pw", "edge/#")
	fromMonitorHA := watch(t, url, "monitor-ha", "fleet-monitor", "fleet-monitor-pw", "homeassistant/#")
	has := all.has

	// The box publishes under its own prefix, as edge does: a persistent
	// session, QoS 1, retained and not.
	box := connect(t, url, "edge-site1-box1", "site1-box1", "site1-box1-pw")
	// Its discovery configs (node_id: box), read back as edge does on every
	// connect: a refused subscription would close the connection.
	if tok := box.Subscribe("homeassistant/+/site1-box1/+/config", 1, func(paho.Client, paho.Message) {}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("box subscribe to its discovery configs: %v", tok.Error())
	}
	ownHA := "homeassistant/sensor/site1-box1/lobby_status_0000/config"
	own := []string{"edge/site1/site1-box1/heartbeat", "edge/site1/site1-box1/lobby/events", ownHA}
	for i, topic := range own {
		if tok := box.Publish(topic, 1, i == 0, "x"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("box publish on its own %s: %v", topic, tok.Error())
		}
	}
	waitTopics(t, has, own)
	waitTopics(t, fromMonitor.has, own[:2])
	waitTopics(t, fromMonitorHA.has, []string{ownHA})

	// Refused publishes: RabbitMQ closes the connection of a client that
	// publishes where it may not, so each one gets a connection of its own.
	forged := []struct{ user, topic string }{
		{"site1-box1", "edge/site1/site1-box2/heartbeat"},                          // another box of its site
		{"site1-box1", "edge/site2/other/available"},                               // another site
		{"site1-box1", "other/site1/site1-box1/heartbeat"},                         // outside the root
		{"site1-box1", "homeassistant/sensor/site1-box2/lobby_status_0000/config"}, // another box's discovery
		{"fleet-monitor", "edge/site1/site1-box1/available"},                       // a subscriber may not publish
	}
	closed := 0
	for i, f := range forged {
		lost := make(chan struct{})
		cl := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("forger-%d", i)).
			SetUsername(f.user).SetPassword(f.user + "-pw").SetAutoReconnect(false).
			SetConnectionLostHandler(func(paho.Client, error) { close(lost) }))
		if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("%s connect: %v", f.user, tok.Error())
		}
		cl.Publish(f.topic, 1, false, "forged").WaitTimeout(5 * time.Second)
		select {
		case <-lost:
			closed++
		case <-time.After(2 * time.Second):
			cl.Disconnect(50)
		}
	}
	// What docs/fleet.md says a box with a wrong ACL sees.
	t.Logf("RabbitMQ closed the connection after %d of %d refused publishes", closed, len(forged))
	// A subscription where the box may not read closes its connection too:
	// what a box with Home Assistant discovery on would meet on every
	// connect (it subscribes to its discovery configs; docs/fleet.md).
	subLost := make(chan struct{})
	sub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("edge-site1-box1-sub").
		SetUsername("site1-box1").SetPassword("site1-box1-pw").SetAutoReconnect(false).
		SetConnectionLostHandler(func(paho.Client, error) { close(subLost) }))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("box connect: %v", tok.Error())
	}
	sub.Subscribe("homeassistant/+/edge_site1_site1-box1_0123abcd/+/config", 1, nil).WaitTimeout(5 * time.Second)
	select {
	case <-subLost:
	case <-time.After(5 * time.Second):
		sub.Disconnect(50)
		t.Error("a subscription outside the box's read permission left its connection open; docs/fleet.md says RabbitMQ closes it")
	}

	// The box still publishes (on a new connection if RabbitMQ closed it):
	// anything forged before it would have arrived by then.
	after := "edge/site1/site1-box1/after"
	late := connect(t, url, "edge-site1-box1-late", "site1-box1", "site1-box1-pw")
	if tok := late.Publish(after, 1, false, "x"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("box publish after the forged ones: %v", tok.Error())
	}
	waitTopics(t, has, []string{after})
	time.Sleep(300 * time.Millisecond)
	for _, f := range forged {
		if has(f.topic) {
			t.Errorf("user %s could publish on %s", f.user, f.topic)
		}
	}

	stranger := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("stranger").SetUsername("site1-box1").SetPassword("wrong"))
	if tok := stranger.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		stranger.Disconnect(0)
		t.Error("a wrong password was accepted")
	}
	anon := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("anonymous"))
	if tok := anon.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		anon.Disconnect(0)
		t.Error("a client without credentials was accepted")
	}
}

type watcher struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (w *watcher) has(topic string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[topic]
}

func watch(t *testing.T, url, id, user, pw, filter string) *watcher {
	t.Helper()
	w := &watcher{seen: map[string]bool{}}
	cl := connect(t, url, id, user, pw)
	if tok := cl.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.seen[m.Topic()] = true
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("%s subscribe %s: %v", user, filter, tok.Error())
	}
	return w
}

func waitTopics(t *testing.T, has func(string) bool, topics []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, topic := range topics {
		for !has(topic) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached the monitor", topic)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
