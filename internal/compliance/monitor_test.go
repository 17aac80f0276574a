package compliance_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
)

type auditor struct{ kinds []string }

func (a *auditor) Write(kind string, _ any) error { a.kinds = append(a.kinds, kind); return nil }

type pausable struct{ paused, pauses, resumes int }

func (p *pausable) Pause()  { p.paused, p.pauses = 1, p.pauses+1 }
func (p *pausable) Resume() { p.paused, p.resumes = 0, p.resumes+1 }

const cfgText = `
site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:8554/a
    restream: true
    signage: cam
    zones:
      - {id: hall, kind: monitored, signage: zone, polygon: [[0.3, 0], [1, 0], [1, 1], [0.3, 1]]}
signage:
  - {id: cam, purpose: public-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2026-03-10T00:00:00Z}
  - {id: zone, purpose: crowd-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2027-01-01T00:00:00Z}
`

// TestMonitorGatesOnTheCameraSign walks a fake clock through a sign's life:
// valid, expiring (alert), expired (outputs paused, frames dropped, alert),
// renewed by a new config (resumed).
func TestMonitorGatesOnTheCameraSign(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	s, a := &edgetest.Sink{}, &auditor{}
	m := compliance.New(compliance.Config{Sink: s, Audit: a, Now: func() time.Time { return now }})
	p := &pausable{}
	g := m.Register("a", map[string]compliance.Pausable{"restream": p})
	if g.Open() || p.paused != 1 {
		t.Fatal("a registered output must start paused, its gate closed")
	}

	type step struct {
		name    string
		at      time.Time
		cfg     *configs.Config
		open    bool
		alert   string // an alert type expected in this step, "" for none
		status  string // the camera sign's status on the compliance topic
		publish bool   // a compliance message expected
	}
	renewed, err := configs.LoadBytes([]byte(strings.Replace(cfgText, "2026-03-10T00:00:00Z", "2026-12-31T00:00:00Z", 1)))
	if err != nil {
		t.Fatal(err)
	}
	steps := []step{
		{"valid at start", now, cfg, true, "", "valid", true},
		{"a second later: nothing new", now.Add(time.Second), nil, true, "", "", false},
		{"6 days before expiry: expiring", time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), nil, true, events.AlertSignExpiring, "expiring", true},
		{"expired", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), nil, false, events.AlertSignExpired, "expired", true},
		{"still expired", time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), nil, false, "", "", false},
		{"renewed sign loaded", time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), renewed, true, "", "valid", true},
	}
	for _, st := range steps {
		now = st.at
		if st.cfg != nil {
			m.Apply(st.cfg)
		} else {
			m.Check()
		}
		msgs := s.Take()
		var comp *events.Compliance
		alerts := map[string]bool{}
		for _, msg := range msgs {
			switch v := msg.(type) {
			case events.Compliance:
				comp = &v
			case events.Alert:
				alerts[v.Type] = true
			}
		}
		if g.Open() != st.open || (p.paused == 0) != st.open {
			t.Fatalf("%s: gate open %v, output paused %v; want open %v", st.name, g.Open(), p.paused == 1, st.open)
		}
		if st.alert != "" && !alerts[st.alert] {
			t.Fatalf("%s: no %s alert in %+v", st.name, st.alert, msgs)
		}
		if st.alert == "" && len(alerts) > 0 {
			t.Fatalf("%s: unexpected alerts %v", st.name, alerts)
		}
		if (comp != nil) != st.publish {
			t.Fatalf("%s: compliance published %v, want %v", st.name, comp != nil, st.publish)
		}
		if comp != nil {
			if comp.Sign == nil || comp.Sign.Status != st.status || len(comp.Outputs) != 1 || comp.Outputs[0].Active != st.open {
				t.Fatalf("%s: compliance %+v", st.name, comp)
			}
			if !st.open && !strings.Contains(comp.Outputs[0].Reason, "cam expired at 2026-03-10") {
				t.Fatalf("%s: reason %q", st.name, comp.Outputs[0].Reason)
			}
			if len(comp.Zones) != 1 || !comp.Zones[0].Analysed {
				t.Fatalf("%s: zones %+v", st.name, comp.Zones)
			}
		}
	}
	if p.pauses != 2 || p.resumes != 2 {
		t.Errorf("paused %d times, resumed %d; want 2 and 2 (register, expiry; start, renewal)", p.pauses, p.resumes)
	}
	joined := strings.Join(a.kinds, ",")
	for _, k := range []string{compliance.KindSignStatus, compliance.KindOutputsGated, compliance.KindAlert} {
		if !strings.Contains(joined, k) {
			t.Errorf("no %s audit record in %s", k, joined)
		}
	}
}

// TestMonitorWithoutConfigKeepsGatesClosed: fail closed before the first config.
func TestMonitorWithoutConfigKeepsGatesClosed(t *testing.T) {
	m := compliance.New(compliance.Config{Sink: &edgetest.Sink{}})
	p := &pausable{}
	g := m.Register("a", map[string]compliance.Pausable{"record": p})
	m.Check()
	if g.Open() || p.paused != 1 {
		t.Fatal("gate opened without a config")
	}
}

// TestImagesAllowed is the console view's gate: the camera sign's rule,
// whatever outputs are on, closed before any config.
func TestImagesAllowed(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	m := compliance.New(compliance.Config{Sink: &edgetest.Sink{}, Audit: &auditor{}, Now: func() time.Time { return now }})
	if ok, why := m.ImagesAllowed("a"); ok || why == "" {
		t.Fatalf("before any config: %v %q, want closed with a reason", ok, why)
	}
	src := strings.Replace(cfgText, "    restream: true\n", "", 1) // no image output: the view still follows the sign
	src = strings.Replace(src, "cameras:\n", "cameras:\n  - {id: b, url: rtsp://127.0.0.1:8554/b}\n  - {id: c, url: rtsp://127.0.0.1:8554/c, enabled: false, signage: cam}\n", 1)
	cfg, err := configs.LoadBytes([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(cfg)
	cases := []struct {
		cam  string
		at   time.Time
		ok   bool
		want string
	}{
		{"a", now, true, ""},
		{"a", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), false, "expired"},
		{"a", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), false, "not valid before"},
		{"b", now, false, "has no sign"},
		{"c", now, false, "not running"},
		{"nope", now, false, "not running"},
	}
	for _, c := range cases {
		now = c.at
		ok, why := m.ImagesAllowed(c.cam)
		if ok != c.ok || !strings.Contains(why, c.want) {
			t.Errorf("camera %s at %s: %v %q, want %v %q", c.cam, c.at.Format(time.DateOnly), ok, why, c.ok, c.want)
		}
	}
}

// TestGateClosesAtExpiryBetweenChecks: the Monitor checks signs once a
// second, but the gate closes at the sign's expiry itself, so no frame is
// let through in between; the next check still pauses the outputs. A
// renewed sign moves the instant.
func TestGateClosesAtExpiryBetweenChecks(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	now := expiry.Add(-500 * time.Millisecond)
	m := compliance.New(compliance.Config{Sink: &edgetest.Sink{}, Audit: &auditor{}, Now: func() time.Time { return now }})
	p := &pausable{}
	g := m.Register("a", map[string]compliance.Pausable{"restream": p})
	m.Apply(cfg)
	if !g.Open() || p.paused != 0 {
		t.Fatal("the gate must open while the camera sign is valid")
	}
	now = expiry // no Check yet
	if g.Open() {
		t.Fatal("the gate is still open at the sign's expiry, before the monitor's next check")
	}
	if p.paused != 0 {
		t.Fatal("the output was paused without a check")
	}
	now = expiry.Add(time.Second)
	m.Check()
	if g.Open() || p.paused != 1 || p.pauses != 2 {
		t.Fatalf("after the check: open %v, paused %d (%d pauses); want closed and paused", g.Open(), p.paused, p.pauses)
	}
	renewed, err := configs.LoadBytes([]byte(strings.Replace(cfgText, "2026-03-10T00:00:00Z", "2026-12-31T00:00:00Z", 1)))
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(renewed)
	if !g.Open() || p.paused != 0 {
		t.Fatal("a renewed sign must reopen the gate")
	}
	now = time.Date(2026, 12, 30, 23, 59, 59, 0, time.UTC)
	if !g.Open() {
		t.Fatal("the renewed gate closed at the old expiry's instant")
	}
	now = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	if g.Open() {
		t.Fatal("the renewed gate is open at the renewed sign's expiry")
	}
}
