package publish_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/publish"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEventsArriveAsExactJSON(t *testing.T) {
	mq := mosquittotest.Start(t)
	sub := subscribe(t, mq.URL(), "sub", "edge/#")
	in := make(chan events.Message, 16)
	r := start(t, config(t, mq.URL(), ""), in)

	var want []string
	for i := 0; i < 5; i++ {
		ev := event(i)
		if i == 4 {
			ev.Type, ev.Snapshot = events.TypeExit, "snapshots/x.jpg"
		}
		want = append(want, payload(t, ev))
		if i%2 == 0 {
			in <- ev // the stage way
		} else if !r.Offer(ev) { // the hot-path way
			t.Fatal("Offer refused with an empty queue")
		}
	}
	occ := events.Occupancy{Camera: "cam1", Zone: "door", Count: 2}
	st := events.State{Camera: "cam1", Status: events.StatusStreaming, Codec: "h264", Width: 640, Height: 480, TS: baseTS}
	in <- occ
	in <- st

	waitUntil(t, "5 events", func() bool { return len(sub.on("edge/cam1/events")) == 5 })
	got := sub.on("edge/cam1/events")
	// Two producers: order is per producer, so compare as sets, then check
	// each payload is the exact JSON.
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.payload] = true
		if m.retained {
			t.Errorf("event published retained")
		}
		var back events.Event
		if err := json.Unmarshal([]byte(m.payload), &back); err != nil {
			t.Errorf("event is not JSON: %v", err)
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("event not received verbatim: %s", w)
		}
	}
	waitUntil(t, "occupancy and state", func() bool {
		return len(sub.on("edge/cam1/door/occupancy")) > 0 && len(sub.on("edge/cam1/state")) > 0
	})
	if got := sub.on("edge/cam1/door/occupancy")[0].payload; got != "2" {
		t.Errorf("occupancy payload %q, want 2", got)
	}
	if got := sub.on("edge/cam1/state")[0].payload; got != payload(t, st) {
		t.Errorf("state payload %s, want %s", got, payload(t, st))
	}
	s := r.Stats()
	if s.Published != 5 || s.Spooled != 5 || s.SpoolDepth != 0 || s.Dropped != 0 || !s.Connected {
		t.Errorf("stats %+v", s)
	}
}

func TestEventOrderSingleProducer(t *testing.T) {
	mq := mosquittotest.Start(t)
	sub := subscribe(t, mq.URL(), "sub", "edge/cam1/events")
	r := start(t, config(t, mq.URL(), ""), nil)
	var ids []string
	for i := 0; i < 50; i++ {
		ev := event(i)
		ids = append(ids, ev.ID)
		if !r.Offer(ev) {
			t.Fatal("Offer refused")
		}
	}
	waitUntil(t, "50 events", func() bool { return len(sub.on("edge/cam1/events")) >= 50 })
	assertIDs(t, sub.on("edge/cam1/events"), ids)
}

// assertIDs checks that msgs hold exactly ids, in order, after dropping
// duplicates (delivery is at least once).
func assertIDs(t *testing.T, msgs []msg, ids []string) {
	t.Helper()
	var got []string
	seen := map[string]bool{}
	for _, m := range msgs {
		var ev events.Event
		if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
			t.Fatalf("bad event %q: %v", m.payload, err)
		}
		if !seen[ev.ID] {
			seen[ev.ID] = true
			got = append(got, ev.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("event ids after dedupe:\n got %d %v\nwant %d %v", len(got), got, len(ids), ids)
	}
}

func TestRetainedForLateSubscriber(t *testing.T) {
	mq := mosquittotest.Start(t)
	r := start(t, config(t, mq.URL(), ""), nil)
	st := events.State{Camera: "cam1", Status: events.StatusStreaming, TS: baseTS}
	r.Offer(events.Occupancy{Camera: "cam1", Zone: "door", Count: 5})
	r.Offer(events.Occupancy{Camera: "cam1", Zone: "door", Count: 3}) // the latest wins
	r.Offer(st)
	waitUntil(t, "retained values published", func() bool { return r.Stats().Retained >= 3 })

	late := subscribe(t, mq.URL(), "late", "edge/#")
	tests := []struct{ topic, want string }{
		{"edge/available", events.Online},
		{"edge/cam1/door/occupancy", "3"},
		{"edge/cam1/state", payload(t, st)},
	}
	for _, tc := range tests {
		t.Run(tc.topic, func(t *testing.T) {
			waitUntil(t, tc.topic, func() bool {
				m := late.on(tc.topic)
				return len(m) > 0 && m[len(m)-1].payload == tc.want
			})
			m := late.on(tc.topic)
			if !m[len(m)-1].retained {
				t.Errorf("%s not retained", tc.topic)
			}
		})
	}
}

func TestOfflineAfterRun(t *testing.T) {
	tests := []struct {
		name string
		end  func(r *running, in chan events.Message)
	}{
		{"context cancelled", func(r *running, _ chan events.Message) { r.cancel() }},
		{"input closed", func(_ *running, in chan events.Message) { close(in) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mq := mosquittotest.Start(t)
			in := make(chan events.Message)
			r := start(t, config(t, mq.URL(), ""), in)
			r.waitConnected(t)
			waitUntil(t, "online published", func() bool { return r.Stats().Retained >= 1 })
			tc.end(r, in)
			r.wait(t)
			late := subscribe(t, mq.URL(), "late", "edge/available")
			waitUntil(t, "available=offline", func() bool {
				m := late.on("edge/available")
				return len(m) == 1 && m[0].payload == events.Offline && m[0].retained
			})
		})
	}
}

func TestLastWill(t *testing.T) {
	mq := mosquittotest.Start(t)
	px := newProxy(t, mq.Addr())
	sub := subscribe(t, mq.URL(), "sub", "edge/available")
	r := start(t, config(t, px.url(), ""), nil)
	waitUntil(t, "online", func() bool {
		m := sub.on("edge/available")
		return len(m) > 0 && m[len(m)-1].payload == events.Online
	})
	// Break the connection without a DISCONNECT and keep it broken: the
	// broker must publish the will.
	px.setOpen(false)
	px.cut()
	waitUntil(t, "last will offline", func() bool {
		m := sub.on("edge/available")
		return m[len(m)-1].payload == events.Offline
	})
	// And back online after the reconnect.
	px.setOpen(true)
	waitUntil(t, "online again", func() bool {
		m := sub.on("edge/available")
		return m[len(m)-1].payload == events.Online
	})
	r.stop(t)
}

// TestOutage stops the real broker for 3 s while events keep coming, then
// checks that a subscriber sees every one of them afterwards, in order.
func TestOutage(t *testing.T) {
	mq := mosquittotest.Start(t)
	// The proxy holds the publisher back after the restart until the new
	// subscriber is ready (the broker keeps no sessions across a restart).
	px := newProxy(t, mq.Addr())
	before := subscribe(t, mq.URL(), "before", "edge/#")
	r := start(t, config(t, px.url(), ""), nil)

	var ids []string
	for i := 0; i < 5; i++ {
		ev := event(i)
		ids = append(ids, ev.ID)
		r.Offer(ev)
	}
	st := events.State{Camera: "cam1", Status: events.StatusStreaming, TS: baseTS}
	r.Offer(st)
	waitUntil(t, "events before the outage", func() bool { return len(before.on("edge/cam1/events")) >= 5 })
	assertIDs(t, before.on("edge/cam1/events"), ids)

	px.setOpen(false)
	mq.Stop()
	waitUntil(t, "publisher to notice", func() bool { return !r.Stats().Connected })

	var during []string
	outage := time.Now()
	for i := 5; i < 35; i++ { // 30 events over 3 s
		ev := event(i)
		during = append(during, ev.ID)
		start := time.Now()
		if !r.Offer(ev) {
			t.Fatal("Offer refused during the outage")
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Offer took %v during the outage", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitUntil(t, "events spooled", func() bool { return r.Stats().SpoolDepth == 30 })
	t.Logf("outage lasted %v, %d events spooled", time.Since(outage).Round(time.Millisecond), r.Stats().SpoolDepth)

	mq.Restart()
	after := subscribe(t, mq.URL(), "after", "edge/#")
	px.setOpen(true)
	restored := time.Now()
	waitUntil(t, "spooled events delivered", func() bool { return r.Stats().SpoolDepth == 0 && len(after.on("edge/cam1/events")) >= 30 })
	t.Logf("backlog of 30 delivered %v after the broker came back", time.Since(restored).Round(time.Millisecond))
	assertIDs(t, after.on("edge/cam1/events"), during)

	// The restarted broker lost its retained values; the publisher re-sent
	// them after reconnecting.
	waitUntil(t, "state and online re-published", func() bool {
		a, s := after.on("edge/available"), after.on("edge/cam1/state")
		return len(a) > 0 && a[len(a)-1].payload == events.Online && len(s) > 0 && s[0].payload == payload(t, st)
	})
	if s := r.Stats(); s.Published != 35 || s.Dropped != 0 || s.SpoolFull != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestOfferNeverBlocks(t *testing.T) {
	cfg := config(t, "tcp://127.0.0.1:1", "")
	cfg.QueueSize = 4
	p, err := publish.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing runs: the queue fills and Offer must refuse, not wait.
	accepted := 0
	start := time.Now()
	for i := 0; i < 100; i++ {
		if p.Offer(event(i)) {
			accepted++
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 Offers took %v", d)
	}
	if accepted != 4 {
		t.Errorf("accepted %d, want the queue size 4", accepted)
	}
	if s := p.Stats(); s.Dropped != 96 {
		t.Errorf("dropped %d, want 96", s.Dropped)
	}
}

func TestSpoolSurvivesPublisherRestart(t *testing.T) {
	mq := mosquittotest.Start(t)
	px := newProxy(t, mq.Addr())
	px.setOpen(false) // the broker is unreachable for the first run
	dir := t.TempDir()

	first := start(t, config(t, px.url(), dir), nil)
	var ids []string
	for i := 0; i < 10; i++ {
		ev := event(i)
		ids = append(ids, ev.ID)
		first.Offer(ev)
	}
	waitUntil(t, "10 spooled", func() bool { return first.Stats().SpoolDepth == 10 })
	first.stop(t)

	sub := subscribe(t, mq.URL(), "sub", "edge/cam1/events")
	px.setOpen(true)
	second := start(t, config(t, px.url(), dir), nil)
	waitUntil(t, "spool of the first run delivered", func() bool { return len(sub.on("edge/cam1/events")) >= 10 })
	assertIDs(t, sub.on("edge/cam1/events"), ids)
	waitUntil(t, "spool empty", func() bool { return second.Stats().SpoolDepth == 0 })
}

func TestSpoolFullIsCounted(t *testing.T) {
	cfg := config(t, "tcp://127.0.0.1:1", "") // never connects
	cfg.SpoolMaxBytes = 2048
	r := start(t, cfg, nil)
	for i := 0; i < 20; i++ { // ~400 bytes each
		r.Offer(event(i))
	}
	waitUntil(t, "all offered events handled", func() bool {
		s := r.Stats()
		return s.Spooled+s.SpoolFull == 20
	})
	s := r.Stats()
	if s.SpoolFull == 0 || s.Spooled == 0 || s.SpoolDepth != int(s.Spooled) {
		t.Fatalf("stats %+v", s)
	}
}

func TestRunTwice(t *testing.T) {
	p, err := publish.New(config(t, "tcp://127.0.0.1:1", ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, nil) }()
	time.Sleep(50 * time.Millisecond) // let the first Run claim the Publisher
	if err := p.Run(ctx, nil); err == nil {
		t.Error("second Run did not fail")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	ok := publish.Config{Broker: "tcp://127.0.0.1:1883", SpoolDir: dir}
	tests := []struct {
		name   string
		mutate func(*publish.Config)
		want   string
	}{
		{"empty broker", func(c *publish.Config) { c.Broker = "" }, "no broker URL"},
		{"duplicate broker", func(c *publish.Config) { c.Brokers = []string{c.Broker} }, "listed twice"},
		{"bad second broker", func(c *publish.Config) { c.Brokers = []string{"tcp://u:s3cret@"} }, "with a host"},
		{"bad scheme", func(c *publish.Config) { c.Broker = "http://u:s3cret@host:1883" }, "want tcp://"},
		{"no host", func(c *publish.Config) { c.Broker = "tcp://" }, "with a host"},
		{"unparsable", func(c *publish.Config) { c.Broker = "tcp://u:s3cret%zz@host:1883" }, "does not parse"},
		{"qos", func(c *publish.Config) { c.QoS = 3 }, "QoS 3"},
		{"wildcard prefix", func(c *publish.Config) { c.TopicPrefix = "edge/#" }, "no wildcards"},
		{"dot in prefix", func(c *publish.Config) { c.TopicPrefix = "edge/site.a" }, "every level"},
		{"space in prefix", func(c *publish.Config) { c.TopicPrefix = "edge/site a" }, "every level"},
		{"trailing slash", func(c *publish.Config) { c.TopicPrefix = "edge/" }, "trailing"},
		{"no spool", func(c *publish.Config) { c.SpoolDir = "" }, "spool directory"},
		{"spool under a file", func(c *publish.Config) { c.SpoolDir = writeFile(t, "plain", "x") + "/spool" }, "spool"},
		{"cert without key", func(c *publish.Config) { c.TLS.Cert = "x.pem" }, "go together"},
		{"missing CA", func(c *publish.Config) { c.TLS.CA = dir + "/nope.pem" }, "mqtt.tls.ca"},
		{"CA not PEM", func(c *publish.Config) { c.TLS.CA = writeFile(t, "ca.pem", "not pem") }, "no PEM"},
		{"bad key pair", func(c *publish.Config) {
			c.TLS.Cert, c.TLS.Key = writeFile(t, "c.pem", "x"), writeFile(t, "k.pem", "y")
		}, "mqtt.tls.cert"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mutate(&cfg)
			_, err := publish.New(cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the password: %q", err)
			}
		})
	}
	if _, err := publish.New(ok); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
}

// TestTLS runs against mosquitto with a TLS listener that requires a client
// certificate.
func TestTLS(t *testing.T) {
	pk := writeTestPKI(t)
	mq := mosquittotest.Start(t, mosquittotest.WithTLS(pk.ca, pk.serverCert, pk.serverKey, true))
	if !strings.HasPrefix(mq.URL(), "ssl://") {
		t.Fatalf("URL %q", mq.URL())
	}
	tests := []struct {
		name      string
		tls       publish.TLS
		connected bool
	}{
		{"CA and client certificate", publish.TLS{CA: pk.ca, Cert: pk.clientCert, Key: pk.clientKey}, true},
		{"no client certificate", publish.TLS{CA: pk.ca}, false},
		{"unknown CA", publish.TLS{CA: pk.clientCert, Cert: pk.clientCert, Key: pk.clientKey}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t, mq.URL(), "")
			cfg.TLS = tc.tls
			r := start(t, cfg, nil)
			if !tc.connected {
				time.Sleep(time.Second)
				if s := r.Stats(); s.Connected {
					t.Fatal("connected without valid TLS credentials")
				}
				return
			}
			r.waitConnected(t)
			r.Offer(event(1))
			waitUntil(t, "event acknowledged over TLS", func() bool { return r.Stats().Published == 1 })
		})
	}
}

func TestSecretsNotLogged(t *testing.T) {
	var logs syncbuf.Buffer
	cfg := config(t, "tcp://user:urlpass@127.0.0.1:1", "")
	cfg.Password = "cfgpass"
	cfg.Logger = newBufferLogger(&logs)
	r := start(t, cfg, nil)
	time.Sleep(300 * time.Millisecond) // a few failed connection attempts
	r.stop(t)
	out := logs.String()
	if !strings.Contains(out, "tcp://***@127.0.0.1:1") {
		t.Errorf("broker not logged (redacted): %s", out)
	}
	for _, secret := range []string{"urlpass", "cfgpass"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q: %s", secret, out)
		}
	}
}

// TestUnreachableBrokerIsReported: paho retries silently; the sink must say
// that events are piling up and what to check.
func TestUnreachableBrokerIsReported(t *testing.T) {
	defer publish.SetNotConnectedWarn(100 * time.Millisecond)()
	var logs syncbuf.Buffer
	cfg := config(t, "tcp://127.0.0.1:1", "")
	cfg.Logger = newBufferLogger(&logs)
	r := start(t, cfg, nil)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "broker not reachable") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	r.stop(t)
	if out := logs.String(); !strings.Contains(out, "broker not reachable") || !strings.Contains(out, "check mqtt.broker") {
		t.Fatalf("no warning about the unreachable broker:\n%s", out)
	}
}

func ExamplePublisher_Offer() {
	p, err := publish.New(publish.Config{Broker: "tcp://127.0.0.1:1883", SpoolDir: "/tmp/edge-example-spool"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// From the frame path: never blocks; false means queue full (counted).
	ok := p.Offer(events.Occupancy{Camera: "lobby", Zone: "door", Count: 1})
	fmt.Println(ok)
	// Output: true
}
