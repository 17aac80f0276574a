package fleet_test

// The ACL examples of docs/fleet.md, run on real brokers: a box may publish
// under its own prefix only, and the fleet monitor reads every box.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/natstest"
)

func TestACLExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("broker ACL tests skipped in -short mode")
	}
	acl, err := filepath.Abs("../../docs/acl")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("mosquitto", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "passwd")
		for i, u := range []string{"site1-box1", "fleet-monitor"} {
			args := []string{"-b", pw, u, u + "-pw"}
			if i == 0 {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		// The docs' TLS listener maps the certificate CN to the username;
		// here passwords give the same usernames to the same ACL file.
		mq := mosquittotest.Start(t, mosquittotest.WithConfig("password_file "+pw+"\nacl_file "+filepath.Join(acl, "mosquitto.acl")))
		checkACL(t, mq.URL())
	})
	t.Run("nats", func(t *testing.T) {
		t.Setenv("BOX1_PASSWORD", "site1-box1-pw")
		t.Setenv("BOX2_PASSWORD", "site1-box2-pw")
		t.Setenv("MONITOR_PASSWORD", "fleet-monitor-pw")
		c := natstest.Start(t, 3, natstest.WithInclude(filepath.Join(acl, "nats-authorization.conf")))
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(c.Logs())
			}
		})
		checkACL(t, c.Nodes[0].URL())
		if log := c.Logs(); !strings.Contains(log, "Publish Violation") {
			t.Errorf("no publish violation logged:\n%s", log)
		}
	})
}

// checkACL: site1-box1 publishes under its own prefix and under another
// box's; the monitor must see the first only. A stranger cannot log in.
func checkACL(t *testing.T, url string) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	mon := connect(t, url, "monitor", "fleet-monitor", "fleet-monitor-pw")
	for _, filter := range []string{"edge/#", "homeassistant/#"} {
		if tok := mon.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
			mu.Lock()
			defer mu.Unlock()
			seen[m.Topic()] = true
		}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("monitor subscribe %s: %v", filter, tok.Error())
		}
	}
	box := connect(t, url, "edge-site1-box1", "site1-box1", "site1-box1-pw")
	// The box's own discovery subtree (node_id: box), read back as edge does.
	if tok := box.Subscribe("homeassistant/+/site1-box1/+/config", 1, func(paho.Client, paho.Message) {}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("box subscribe to its discovery configs: %v", tok.Error())
	}
	forged := []string{"edge/site1/site1-box2/heartbeat", "edge/site2/other/available", "homeassistant/sensor/site1-box2/hall_status_0000/config"}
	own := []string{"edge/site1/site1-box1/heartbeat", "homeassistant/sensor/site1-box1/hall_status_0000/config"}
	for _, topic := range append(forged, own...) {
		// A refused publish is dropped by the broker; it may still be
		// acknowledged, so the check is what the monitor receives.
		box.Publish(topic, 1, false, "x").WaitTimeout(5 * time.Second)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, topic := range own {
		for {
			mu.Lock()
			ok := seen[topic]
			mu.Unlock()
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the box's publish on its own %s never reached the monitor", topic)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // anything let through would be here by now
	mu.Lock()
	defer mu.Unlock()
	for _, topic := range forged {
		if seen[topic] {
			t.Errorf("box site1-box1 could publish on %s", topic)
		}
	}
	stranger := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("stranger").SetUsername("site1-box1").SetPassword("wrong"))
	if tok := stranger.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
		stranger.Disconnect(0)
		t.Error("a wrong password was accepted")
	}
}

func connect(t *testing.T, url, id, user, pw string) paho.Client {
	t.Helper()
	// A persistent session, as edge uses: it must work under the ACL too.
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername(user).SetPassword(pw).SetCleanSession(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("%s connect: %v", user, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}
