package publish_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/stages/publish"
)

const waitFor = 15 * time.Second

// msg is one message a subscriber received.
type msg struct {
	topic    string
	payload  string
	retained bool
}

// subscriber records everything under a topic filter.
type subscriber struct {
	c    paho.Client
	mu   sync.Mutex
	msgs []msg
}

func subscribe(t *testing.T, url, id, filter string) *subscriber {
	t.Helper()
	s := &subscriber{}
	s.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetAutoReconnect(false))
	if tok := s.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { s.c.Disconnect(50) })
	tok := s.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.msgs = append(s.msgs, msg{m.Topic(), string(m.Payload()), m.Retained()})
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return s
}

func (s *subscriber) all() []msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]msg(nil), s.msgs...)
}

// on returns the messages received on topic, in order.
func (s *subscriber) on(topic string) []msg {
	var out []msg
	for _, m := range s.all() {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// waitUntil polls cond until it holds or the test times out.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger keeps the publisher's log and prints it when the test fails.
func testLogger(t *testing.T) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("publisher log:\n%s", buf.String())
			mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func config(t *testing.T, url, spoolDir string) publish.Config {
	if spoolDir == "" {
		spoolDir = t.TempDir()
	}
	return publish.Config{
		Broker:               url,
		ClientID:             "edge-test-" + strings.ReplaceAll(t.Name(), "/", "-"),
		QoS:                  1,
		TopicPrefix:          "edge",
		SpoolDir:             spoolDir,
		PublishTimeout:       3 * time.Second,
		ConnectRetryInterval: 100 * time.Millisecond,
		MaxReconnectInterval: 500 * time.Millisecond,
		DrainTimeout:         3 * time.Second,
		Logger:               testLogger(t),
	}
}

// running is a Publisher whose Run goroutine the test controls.
type running struct {
	*publish.Publisher
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg publish.Config, in <-chan events.Message) *running {
	t.Helper()
	p, err := publish.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Publisher: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx, in) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it; safe to call twice.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	r.wait(t)
}

func (r *running) wait(t *testing.T) {
	t.Helper()
	if r.done == nil {
		return
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done = nil
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
}

func (r *running) waitConnected(t *testing.T) {
	t.Helper()
	waitUntil(t, "publisher connected", func() bool { return r.Stats().Connected })
}

var baseTS = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func event(i int) events.Event {
	return events.Event{
		ID: events.NewID(), Type: events.TypeEnter, Site: "hq", Camera: "cam1", Zone: "door",
		SignageID: "sign-1", Purpose: "safety", Label: events.LabelPerson, TrackID: i,
		Score: 0.9, Box: [4]float64{0.1, 0.2, 0.3, 0.4}, TS: baseTS.Add(time.Duration(i) * time.Millisecond),
		Occupancy: 1,
	}
}

func payload(t *testing.T, m events.Message) string {
	t.Helper()
	b, err := m.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// proxy forwards TCP to a broker and can cut connections abruptly or refuse
// new ones, to test the last will and to hold the publisher back while a
// test subscriber gets ready.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	open   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	closed bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, open: true, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		open := p.open && !p.closed
		p.mu.Unlock()
		if !open {
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut closes every forwarded connection without an MQTT DISCONNECT.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// setOpen makes the proxy forward (true) or refuse (false) new connections.
func (p *proxy) setOpen(open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = open
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
