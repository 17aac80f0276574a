package publish_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/publish"
)

func TestBrokerOrder(t *testing.T) {
	brokers := []string{"tcp://a:1883", "tcp://b:1883", "tcp://c:1883"}
	first := map[string]int{}
	for i := range 600 {
		id := fmt.Sprintf("edge-shop%03d", i)
		o := publish.BrokerOrder(brokers, id)
		if !slices.Equal(o, publish.BrokerOrder(brokers, id)) {
			t.Fatalf("order of %s changes between calls: a box must keep its order across restarts", id)
		}
		sorted := slices.Clone(o)
		slices.Sort(sorted)
		if !slices.Equal(sorted, brokers) {
			t.Fatalf("order %v is not a permutation of %v", o, brokers)
		}
		first[o[0]]++
	}
	// 600 boxes over 3 nodes: 200 each expected; paho alone puts all on a.
	for _, b := range brokers {
		if first[b] < 150 || first[b] > 250 {
			t.Errorf("%d of 600 boxes start on %s: the fleet does not spread (%v)", first[b], b, first)
		}
	}
	if !slices.Equal(brokers, []string{"tcp://a:1883", "tcp://b:1883", "tcp://c:1883"}) {
		t.Error("BrokerOrder changed its argument")
	}
}

// TestFailover: two independent brokers stand in for two cluster nodes. The
// box is connected to one; that one stops; the box goes to the other, says
// so in the log and the counters, publishes availability, heartbeat and
// retained state there, and every event reaches one of the two.
func TestFailover(t *testing.T) {
	a, b := mosquittotest.Start(t), mosquittotest.Start(t)
	subs := map[string]*subscriber{a.URL(): subscribe(t, a.URL(), "sub-a", "edge/#"), b.URL(): subscribe(t, b.URL(), "sub-b", "edge/#")}
	var logs syncbuf.Buffer
	cfg := config(t, "", "")
	cfg.Brokers = []string{a.URL(), b.URL()}
	cfg.Site, cfg.Box, cfg.Build = "s1", "box1", "test-build"
	cfg.HeartbeatInterval = 300 * time.Millisecond
	cfg.Logger = newBufferLogger(&logs)
	r := start(t, cfg, nil)
	r.waitConnected(t)
	st := events.State{Camera: "cam1", Status: events.StatusStreaming, TS: baseTS}
	r.Offer(st)

	first := r.Stats().Broker
	var firstMQ, other *mosquittotest.Mosquitto
	switch first {
	case a.URL():
		firstMQ, other = a, b
	case b.URL():
		firstMQ, other = b, a
	default:
		t.Fatalf("connected to %q, neither broker", first)
	}
	var ids []string
	for i := range 10 {
		ev := event(i)
		ids = append(ids, ev.ID)
		r.Offer(ev)
	}
	// Independent brokers, unlike a cluster, lose what they acknowledged
	// but did not yet forward: stop the first once its subscriber has all.
	waitUntil(t, "10 events through the first broker", func() bool { return len(subs[first].on("edge/cam1/events")) == 10 })
	firstMQ.Stop()
	for i := 10; i < 30; i++ {
		ev := event(i)
		ids = append(ids, ev.ID)
		r.Offer(ev)
	}
	waitUntil(t, "failover to the other broker", func() bool {
		s := r.Stats()
		return s.Connected && s.Broker == other.URL() && s.Failovers == 1
	})
	waitUntil(t, "all 30 events acknowledged", func() bool { return r.Stats().Published >= 30 })

	sub := subs[other.URL()]
	got := map[string]bool{}
	for _, s := range subs {
		for _, m := range s.on("edge/cam1/events") {
			var ev events.Event
			if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
				t.Fatal(err)
			}
			got[ev.ID] = true
		}
	}
	for _, id := range ids {
		if !got[id] {
			t.Errorf("event %s lost in the failover", id)
		}
	}
	waitUntil(t, "online, state and a heartbeat on the new node", func() bool {
		return len(sub.on("edge/available")) > 0 && len(sub.on("edge/cam1/state")) > 0 && len(sub.on("edge/heartbeat")) >= 2
	})
	late := subscribe(t, other.URL(), "late", "edge/#")
	waitUntil(t, "retained online, state and heartbeat on the new node", func() bool {
		return len(late.on("edge/available")) > 0 && len(late.on("edge/cam1/state")) > 0 && len(late.on("edge/heartbeat")) > 0
	})
	if got := late.on("edge/available"); got[0].payload != events.Online || !got[0].retained {
		t.Errorf("availability on the new node: %+v", got)
	}
	if hbs := late.on("edge/heartbeat"); !hbs[0].retained {
		t.Errorf("first heartbeat on the new node is not retained: %+v", hbs[0])
	}
	// The retained heartbeat may predate the count of the last events (it is
	// taken on a timer); one of the next few must count all 30.
	var hb events.Heartbeat
	waitUntil(t, "a heartbeat counting all 30 events", func() bool {
		hbs := late.on("edge/heartbeat")
		if err := json.Unmarshal([]byte(hbs[len(hbs)-1].payload), &hb); err != nil {
			t.Fatal(err)
		}
		return hb.EventsLastHour["cam1"] == 30
	})
	if hb.Site != "s1" || hb.Box != "box1" || hb.Build != "test-build" || hb.Cameras != 1 || hb.Broker != other.URL() ||
		hb.Failovers != 1 || hb.EventsLastHour["cam1"] != 30 || hb.IntervalS != 0.3 {
		t.Errorf("heartbeat %+v: want site s1, box box1, 1 camera, 30 events, 1 failover, on %s, retained", hb, other.URL())
	}
	if time.Since(hb.TS) > 2*time.Second {
		t.Errorf("heartbeat is %v old with a 300 ms interval", time.Since(hb.TS))
	}
	if out := logs.String(); !strings.Contains(out, "mqtt failover") || !strings.Contains(out, "from="+firstMQ.URL()) {
		t.Errorf("failover not logged with its nodes:\n%s", out)
	}
}

// TestHeartbeatCountsRunningCameras: a stopped camera is not counted.
func TestHeartbeatCountsRunningCameras(t *testing.T) {
	mq := mosquittotest.Start(t)
	sub := subscribe(t, mq.URL(), "sub", "edge/heartbeat")
	cfg := config(t, mq.URL(), "")
	cfg.HeartbeatInterval = 100 * time.Millisecond
	r := start(t, cfg, nil)
	r.Offer(events.State{Camera: "a", Status: events.StatusStreaming})
	r.Offer(events.State{Camera: "b", Status: events.StatusError})
	r.Offer(events.State{Camera: "c", Status: events.StatusStopped})
	waitUntil(t, "a heartbeat with two cameras", func() bool {
		for _, m := range sub.on("edge/heartbeat") {
			var hb events.Heartbeat
			if json.Unmarshal([]byte(m.payload), &hb) == nil && hb.Cameras == 2 {
				return true
			}
		}
		return false
	})
	r.Offer(events.State{Camera: "b", Status: events.StatusStopped})
	waitUntil(t, "a heartbeat with one camera", func() bool {
		m := sub.on("edge/heartbeat")
		var hb events.Heartbeat
		return len(m) > 0 && json.Unmarshal([]byte(m[len(m)-1].payload), &hb) == nil && hb.Cameras == 1
	})
}

// TestTLSReload: the client certificate is replaced on disk while the box
// runs. A broken copy is refused and the box stays connected on the old one;
// a valid new one is taken into use with a reconnect and no restart.
func TestTLSReload(t *testing.T) {
	pk := writeTestPKI(t)
	mq := mosquittotest.Start(t, mosquittotest.WithTLS(pk.ca, pk.serverCert, pk.serverKey, true))
	dir := t.TempDir()
	cert, key := dir+"/box.crt", dir+"/box.key"
	copyFile(t, pk.clientCert, cert)
	copyFile(t, pk.clientKey, key)
	var logs syncbuf.Buffer
	cfg := config(t, mq.URL(), "")
	cfg.TLS = publish.TLS{CA: pk.ca, Cert: cert, Key: key}
	cfg.TLSReloadInterval = 50 * time.Millisecond
	cfg.Logger = newBufferLogger(&logs)
	r := start(t, cfg, nil)
	r.waitConnected(t)

	if err := os.WriteFile(cert, []byte("half a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the broken certificate reported", func() bool { return strings.Contains(logs.String(), "do not load") })
	if s := r.Stats(); !s.Connected || s.TLSReloads != 0 {
		t.Fatalf("after a broken certificate: %+v; want still connected on the old one", s)
	}

	pk2 := writeTestPKI(t) // another CA: the broker must refuse this one
	copyFile(t, pk2.clientCert, cert)
	copyFile(t, pk2.clientKey, key)
	waitUntil(t, "the foreign certificate taken into use and refused", func() bool {
		s := r.Stats()
		return s.TLSReloads == 1 && !s.Connected
	})

	// A new certificate from the broker's CA: connected again, no restart.
	copyFile(t, pk.clientCert, cert)
	copyFile(t, pk.clientKey, key)
	waitUntil(t, "the renewed certificate used", func() bool {
		s := r.Stats()
		return s.TLSReloads == 2 && s.Connected
	})
	r.Offer(event(1))
	waitUntil(t, "event acknowledged with the renewed certificate", func() bool { return r.Stats().Published == 1 })
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Write then rename, as a certificate manager does, so the watcher
	// never sees half a file.
	if err := os.WriteFile(to+".tmp", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".tmp", to); err != nil {
		t.Fatal(err)
	}
}

// TestConnectHeldByNode: a node accepts the TCP connection but holds the
// CONNECT without an answer, as a nats-server node does for 4 s while its
// cluster elects a stream leader after losing a node. The box gives it up
// after its connect time-out and connects to the next node, instead of
// waiting for the publish time-out.
func TestConnectHeldByNode(t *testing.T) {
	mq := mosquittotest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() { _, _ = io.Copy(io.Discard, c) }() // reads the CONNECT, never answers
			t.Cleanup(func() { c.Close() })
		}
	}()
	held := "tcp://" + ln.Addr().String()
	cfg := config(t, "", "")
	cfg.Broker = ""
	cfg.Brokers = []string{held, mq.URL()}
	for i := 0; publish.BrokerOrder(cfg.Brokers, cfg.ClientID)[0] != held; i++ {
		cfg.ClientID = fmt.Sprintf("edge-held-%d", i) // one whose order tries the held node first
	}
	cfg.PublishTimeout = 5 * time.Second
	cfg.ConnectTimeout = 300 * time.Millisecond
	began := time.Now()
	r := start(t, cfg, nil)
	r.waitConnected(t)
	took := time.Since(began)
	if s := r.Stats(); s.Broker != mq.URL() {
		t.Fatalf("connected to %s, want %s", s.Broker, mq.URL())
	}
	select {
	case <-accepted:
	default:
		t.Fatal("the holding node was never tried")
	}
	if took > 2*time.Second {
		t.Errorf("connected %v after the start; want the held attempt given up after the 300 ms connect time-out, not the 5 s publish time-out", took)
	}
}

func TestConnectTimeoutGrows(t *testing.T) {
	for doubled, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := publish.ConnectTimeout(2*time.Second, 10*time.Second, doubled); got != want {
			t.Errorf("connect time-out after %d doublings: %v, want %v", doubled, got, want)
		}
	}
}
