package natstest_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/internal/natstest"
)

// restartSub is a persistent QoS 1 subscriber that records which numbered
// messages it received.
type restartSub struct {
	mu   sync.Mutex
	got  map[int]bool
	dups int
	c    paho.Client
}

func (s *restartSub) lacks(want []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var miss []int
	for _, n := range want {
		if !s.got[n] {
			miss = append(miss, n)
		}
	}
	return miss
}

// restartCycles publishes numbered QoS 1 messages with a plain paho client
// (retrying each until the broker acknowledges it, as a box's spool does)
// to one persistent QoS 1 subscriber per node, kills and restarts the whole
// cluster cycles times meanwhile, and returns, per subscriber, the
// acknowledged messages it never received, after waiting past the
// broker's 30 s redelivery time.
func restartCycles(t *testing.T, limits bool, cycles int) (acked int, lacks [][]int) {
	c := natstest.Start(t, 3)
	if limits {
		c.AddStream("../../docs/nats/mqtt-msgs-stream.json")
	}
	var subs []*restartSub
	for i, u := range c.URLs() {
		s := &restartSub{got: map[int]bool{}}
		h := func(_ paho.Client, m paho.Message) {
			n, err := strconv.Atoi(string(m.Payload()))
			if err != nil {
				return
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.got[n] {
				s.dups++
			}
			s.got[n] = true
		}
		o := paho.NewClientOptions().AddBroker(u).SetClientID(fmt.Sprintf("restart-sub-%d", i)).
			SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
			SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second).
			SetDefaultPublishHandler(h)
		s.c = paho.NewClient(o)
		if tok := s.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscriber %d: connect: %v", i, tok.Error())
		}
		// Subscribed once: the persistent session keeps the subscription.
		if tok := s.c.Subscribe("restart/#", 1, h); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscriber %d: subscribe: %v", i, tok.Error())
		}
		subs = append(subs, s)
		t.Cleanup(func() { s.c.Disconnect(50) })
	}
	po := paho.NewClientOptions().SetClientID("restart-pub").SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectTimeout(5 * time.Second).
		SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second)
	for _, u := range c.URLs() {
		po.AddBroker(u)
	}
	pub := paho.NewClient(po)
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher: connect: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(50) })
	var mu sync.Mutex
	var ok []int
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; ; n++ {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if tok := pub.Publish("restart/box/events", 1, false, strconv.Itoa(n)); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
					mu.Lock()
					ok = append(ok, n)
					mu.Unlock()
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for i := range cycles {
		time.Sleep(3 * time.Second)
		c.KillAll()
		down := time.Now()
		time.Sleep(2 * time.Second)
		c.RestartAll()
		t.Logf("cycle %d: cluster down %v", i+1, time.Since(down).Round(time.Millisecond))
	}
	time.Sleep(5 * time.Second)
	close(stop)
	<-done
	mu.Lock()
	want := slices.Clone(ok)
	mu.Unlock()
	// Past the consumers' AckWait (30 s): anything delivered to a connection
	// that died unacknowledged has been sent again by then.
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, s := range subs {
			all = all && len(s.lacks(want)) == 0
		}
		if all {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, s := range subs {
		lacks = append(lacks, s.lacks(want))
	}
	for i, l := range lacks {
		if len(l) > 0 {
			t.Logf("subscriber %d lacks %v; the consumers as node %d reports them:\n%s", i, l, i+1, jsz(c.Nodes[i].Mon))
		}
	}
	return len(want), lacks
}

// jsz is the node's JetStream report of the MQTT message stream's consumers.
func jsz(port int) string {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz?accounts=true&streams=true&consumers=true", port))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestClusterRestartInterestRetention reproduces, with plain paho clients and
// no edge code, a loss seen in nats-server 2.9.10 (Debian 12): after the whole
// cluster is killed and restarted, a persistent QoS 1 subscriber may never
// receive a message that the broker acknowledged to the publisher while
// nodes were coming back, although the other subscribers got it. It runs only
// with EDGE_NATS_REPRO=1 (a minute or two per variant) and reports what each
// subscriber lacks with nats-server's default stream for MQTT messages
// (interest retention: lost messages in most runs, not all, so only
// reported) and with the workaround of docs/fleet.md (limits retention: a
// lost message fails the test).
func TestClusterRestartInterestRetention(t *testing.T) {
	if os.Getenv("EDGE_NATS_REPRO") == "" {
		t.Skip("set EDGE_NATS_REPRO=1 to run the nats-server cluster restart reproduction")
	}
	cycles := 3
	if v, err := strconv.Atoi(os.Getenv("EDGE_NATS_REPRO_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	for _, limits := range []bool{false, true} {
		name := map[bool]string{false: "interest", true: "limits"}[limits]
		if only := os.Getenv("EDGE_NATS_REPRO_ONLY"); only != "" && only != name {
			continue
		}
		t.Run(name, func(t *testing.T) {
			acked, lacks := restartCycles(t, limits, cycles)
			var parts []string
			for i, l := range lacks {
				parts = append(parts, fmt.Sprintf("sub%d lacks %d", i, len(l)))
			}
			t.Logf("RESULT %s retention, %d restarts: %d acknowledged; %s", name, cycles, acked, strings.Join(parts, ", "))
			// Limits retention is the workaround docs/fleet.md gives: there
			// nothing may be lost. With interest retention the loss is
			// nats-server's and comes in most runs, not all: reported only.
			if limits {
				for i, l := range lacks {
					if len(l) > 0 {
						t.Errorf("limits retention: subscriber %d lacks %d acknowledged messages", i, len(l))
					}
				}
			}
		})
	}
}
