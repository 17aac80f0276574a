package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/payloadschema"
	"github.com/edgeprivacy/edge/internal/replay"
)

const complianceConfig = `
site: ct
box_id: b1
mqtt: {broker: "%s", topic_prefix: ct, spool_dir: %s}
restream: {addr: "127.0.0.1:%d"}
audit: {dir: %s}
cameras:
  - id: lobby
    url: %s
    signage: cam-sign
    restream: true
    record: {enabled: true, dir: %s, segment_seconds: 2}
    encode: {fps: 10, bitrate_kbps: 800, width: 384}
    detect: {fps: 1, width: 320}
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.25, 0], [0.25, 1], [0, 1]]}
signage:
  - {id: cam-sign, purpose: public-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: %s}
`

// mqttLog collects what a real subscriber receives.
type mqttLog struct {
	mu       sync.Mutex
	retained map[string][]byte
	alerts   []events.Alert
	// payloads are every compliance and alert payload received, by schema
	// name, for checkSchemas.
	payloads map[string][][]byte
}

// checkSchemas validates every compliance and alert payload received
// against docs/schema, which subscribers are given.
func (m *mqttLog) checkSchemas(t *testing.T) {
	t.Helper()
	s, err := payloadschema.Load(payloadschema.Compliance, payloadschema.Alert)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range []string{payloadschema.Compliance, payloadschema.Alert} {
		if len(m.payloads[name]) == 0 {
			t.Errorf("no %s payload received", name)
		}
		for _, b := range m.payloads[name] {
			if err := s.Validate(name, b); err != nil {
				t.Errorf("%s payload does not match docs/schema: %v\n%s", name, err, b)
			}
		}
	}
}

func (m *mqttLog) compliance(topic string) (events.Compliance, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c events.Compliance
	return c, json.Unmarshal(m.retained[topic], &c) == nil
}

func (m *mqttLog) alert(typ, sign string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.alerts {
		if a.Type == typ && (sign == "" || a.Sign == sign) {
			return true
		}
	}
	return false
}

func subscribeAll(t *testing.T, url, prefix string) *mqttLog {
	t.Helper()
	l := &mqttLog{retained: map[string][]byte{}, payloads: map[string][][]byte{}}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("compliance-test").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	tok := c.Subscribe(prefix+"/#", 1, func(_ paho.Client, m paho.Message) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if m.Topic() == events.AlertsTopic(prefix) {
			l.payloads[payloadschema.Alert] = append(l.payloads[payloadschema.Alert], append([]byte(nil), m.Payload()...))
			var a events.Alert
			if json.Unmarshal(m.Payload(), &a) == nil {
				l.alerts = append(l.alerts, a)
			}
			return
		}
		l.retained[m.Topic()] = append([]byte(nil), m.Payload()...)
		if strings.HasSuffix(m.Topic(), "/compliance") {
			l.payloads[payloadschema.Compliance] = append(l.payloads[payloadschema.Compliance], l.retained[m.Topic()])
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return l
}

// viewer is a real RTSP client playing the restream.
type viewer struct {
	c    *gortsplib.Client
	n    chan struct{}
	done chan error
}

// watchRestream plays url; it returns an error while the path refuses.
func watchRestream(url string) (*viewer, error) {
	u, err := base.ParseURL(url)
	if err != nil {
		return nil, err
	}
	tcp := gortsplib.TransportTCP
	// A read timeout longer than the wait for the disconnection below, so
	// that a starved stream cannot pass for a closed one.
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp, ReadTimeout: 20 * time.Second, WriteTimeout: 5 * time.Second}
	if err := c.Start2(); err != nil {
		return nil, err
	}
	desc, _, err := c.Describe(u)
	if err == nil {
		err = c.SetupAll(desc.BaseURL, desc.Medias)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	v := &viewer{c: c, n: make(chan struct{}, 1), done: make(chan error, 1)}
	c.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) {
		select {
		case v.n <- struct{}{}:
		default:
		}
	})
	if _, err := c.Play(nil); err != nil {
		c.Close()
		return nil, err
	}
	go func() { v.done <- c.Wait() }()
	return v, nil
}

func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// recordingBytes is the total size of the camera's segments and their count.
func recordingBytes(dir string) (int64, int) {
	files, _ := filepath.Glob(filepath.Join(dir, "lobby", "*.mp4"))
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n, len(files)
}

// TestSignExpiresMidStream runs edge on a replayed camera with a real
// mosquitto: while a viewer plays the restream and segments are recorded, the
// camera's sign is reloaded to lapse in a few seconds. When it lapses the
// viewer is disconnected, new viewers are refused, the recording stops, the
// retained compliance topic and an alert say why; a renewed sign brings all
// of it back; the audit chain records it and verifies.
func TestSignExpiresMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	testclip.Need(t)
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	mq := mosquittotest.Start(t)
	dir := t.TempDir()
	port := freeport.TCP(t)
	auditDir, recDir := filepath.Join(dir, "audit"), filepath.Join(dir, "rec")
	cfgAt := func(expires string) string {
		return fmt.Sprintf(complianceConfig, mq.URL(), filepath.Join(dir, "spool"), port, auditDir, cam.URLs()[0], recDir, expires)
	}
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, cfgAt("2099-01-01T00:00:00Z"))
	prefix := events.Prefix("ct", "ct", "b1")
	sub := subscribeAll(t, mq.URL(), prefix)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, KeyPath: filepath.Join(dir, "key", "device.key"), WatchEvery: 200 * time.Millisecond, HTTPAddr: "off", Logger: quietLogger()})
	}()
	topic := events.ComplianceTopic(prefix, "lobby")
	outputsActive := func(want bool) func() bool {
		return func() bool {
			c, ok := sub.compliance(topic)
			if !ok || len(c.Outputs) != 2 {
				return false
			}
			for _, o := range c.Outputs {
				if o.Active != want {
					return false
				}
			}
			return true
		}
	}
	until(t, 30*time.Second, "compliance: outputs active", outputsActive(true))

	url := fmt.Sprintf("rtsp://127.0.0.1:%d/lobby", port)
	var v *viewer
	until(t, 60*time.Second, "a viewer playing the restream", func() bool {
		v, err = watchRestream(url)
		return err == nil
	})
	defer v.c.Close()
	select {
	case <-v.n:
	case <-time.After(30 * time.Second):
		t.Fatal("no RTP packet from the restream")
	}
	until(t, 60*time.Second, "a recorded segment", func() bool { b, _ := recordingBytes(recDir); return b > 0 })

	// The sign is re-verified to lapse 3 s from now: a reload that keeps the
	// outputs on, then an expiry by the clock while the viewer watches.
	expiry := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	writeFile(t, path, cfgAt(expiry.UTC().Format(time.RFC3339)))
	until(t, 15*time.Second, "alert: reload accepted", func() bool { return sub.alert(events.AlertReloadAccepted, "") })
	until(t, 15*time.Second, "alert: sign expiring", func() bool { return sub.alert(events.AlertSignExpiring, "cam-sign") })

	select {
	case <-v.done:
		if time.Now().Before(expiry) {
			t.Fatalf("viewer disconnected at %v, before the sign expired at %v", time.Now(), expiry)
		}
	case <-time.After(time.Until(expiry) + 5*time.Second):
		t.Fatal("the viewer was not disconnected within 5 s of the camera sign's expiry")
	}
	until(t, 10*time.Second, "compliance: outputs gated off", outputsActive(false))
	c, _ := sub.compliance(topic)
	if c.Sign == nil || c.Sign.Status != "expired" || !strings.Contains(c.Outputs[0].Reason, "cam-sign expired") {
		t.Fatalf("compliance %+v: want the sign expired and the reason", c)
	}
	until(t, 10*time.Second, "alert: sign expired", func() bool { return sub.alert(events.AlertSignExpired, "cam-sign") })
	if v2, err := watchRestream(url); err == nil {
		v2.c.Close()
		t.Fatal("a new viewer was let in after the sign expired")
	}
	time.Sleep(time.Second) // the recorder finishes what it had queued
	b1, n1 := recordingBytes(recDir)
	time.Sleep(4 * time.Second)
	if b2, n2 := recordingBytes(recDir); b2 != b1 || n2 != n1 {
		t.Fatalf("recording went on after the sign expired: %d bytes in %d files, then %d in %d", b1, n1, b2, n2)
	}

	// A renewed sign brings everything back.
	writeFile(t, path, cfgAt("2099-06-01T00:00:00Z"))
	until(t, 20*time.Second, "compliance: outputs active again", outputsActive(true))
	until(t, 60*time.Second, "a viewer playing the restream again", func() bool {
		v3, err := watchRestream(url)
		if err != nil {
			return false
		}
		defer v3.c.Close()
		select {
		case <-v3.n:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	})
	until(t, 30*time.Second, "recording again", func() bool { b, _ := recordingBytes(recDir); return b > b1 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	paths, err := audit.Paths(auditDir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := audit.Verify(paths, nil)
	if err != nil {
		t.Fatalf("audit chain of the run: %v", err)
	}
	var text strings.Builder
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		text.Write(b)
	}
	for _, want := range []string{`"kind":"start"`, `"kind":"outputs_gated","prev"`, `"active":false,"reason":"camera sign cam-sign expired`,
		`"to":"expired"`, `"kind":"stop"`, `"reason":"stop"`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	t.Logf("audit: %+v", s)
	sub.checkSchemas(t)
}
