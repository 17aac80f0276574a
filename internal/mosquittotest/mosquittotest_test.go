package mosquittotest_test

import (
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/mosquittotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func TestStopRestartSamePort(t *testing.T) {
	m := mosquittotest.Start(t)
	if !strings.HasPrefix(m.URL(), "tcp://127.0.0.1:") {
		t.Fatalf("URL %q", m.URL())
	}
	if err := dial(m.Addr()); err != nil {
		t.Fatalf("not accepting after Start: %v", err)
	}
	m.Stop()
	if err := dial(m.Addr()); err == nil {
		t.Fatal("still accepting after Stop")
	}
	m.Restart()
	if err := dial(m.Addr()); err != nil {
		t.Fatalf("not accepting after Restart: %v", err)
	}

	// It is a real MQTT broker.
	c := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("probe"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("MQTT connect: %v (log: %s)", tok.Error(), m.Log())
	}
	got := make(chan string, 1)
	if tok := c.Subscribe("probe/#", 1, func(_ paho.Client, msg paho.Message) {
		select {
		case got <- string(msg.Payload()):
		default:
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	if tok := c.Publish("probe/x", 1, false, "ping"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "ping" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not received")
	}
	c.Disconnect(100)
}

func TestTwoBrokersDifferentPorts(t *testing.T) {
	a, b := mosquittotest.Start(t), mosquittotest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("same address %s", a.Addr())
	}
}

// TestPersistentKeepsRetained checks that StartPersistent's broker can write
// and read its persistence file across Stop and Restart (as root it must not
// drop to a user that cannot write the test's temporary directory).
func TestPersistentKeepsRetained(t *testing.T) {
	m := mosquittotest.StartPersistent(t)
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("pub").SetAutoReconnect(false))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	if tok := pub.Publish("keep/me", 1, true, "kept"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	pub.Disconnect(100)
	m.Stop()
	m.Restart()

	sub := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("sub").SetAutoReconnect(false))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect after restart: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	got := make(chan string, 1)
	if tok := sub.Subscribe("keep/me", 1, func(_ paho.Client, msg paho.Message) {
		select {
		case got <- string(msg.Payload()):
		default:
		}
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "kept" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("retained message lost across restart; broker log: %s", m.Log())
	}
}
