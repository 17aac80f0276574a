package compliance_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/track"
)

// A camera and a zone under signs put up ahead of time: valid only from
// verified_at, an hour after the test clock starts.
const pendingConfig = `
site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:8554/a
    record: {enabled: true}
    signage: cam
    detect: {fps: 5}
    zones:
      - {id: walkway, kind: monitored, signage: zone, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}
signage:
  - {id: cam, purpose: public-safety, verified_at: 2026-05-01T11:00:00Z, expires_at: 2027-01-01T00:00:00Z}
  - {id: zone, purpose: crowd-safety, verified_at: 2026-05-01T11:00:00Z, expires_at: 2027-01-01T00:00:00Z}
`

// gatedOutput counts the frames its gate let through.
type gatedOutput struct{ n atomic.Int64 }

func (o *gatedOutput) Offer(f *mask.Frame) { o.n.Add(1); f.Close() }

// eventSink keeps the events a camera produced.
type eventSink struct {
	mu     sync.Mutex
	events []events.Event
}

func (s *eventSink) Offer(m events.Message) bool {
	if e, ok := m.(events.Event); ok {
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
	}
	return true
}

func (s *eventSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.events) }

// TestSignNotYetValid runs the production pipeline of a camera whose camera
// sign and zone sign are not valid yet on a real clip, under a clock the test
// moves: until verified_at the image output gets no frame, the zone is not
// analysed (no detection, no event), the compliance status says why and a
// sign_not_yet_valid alert is sent; when the clock passes verified_at the
// gate opens, frames flow and people are detected and counted.
func TestSignNotYetValid(t *testing.T) {
	testclip.Need(t)
	conf, err := configs.LoadBytes([]byte(pendingConfig))
	if err != nil {
		t.Fatal(err)
	}
	cam, _ := conf.Camera("a")
	before := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	valid := time.Date(2026, 5, 1, 11, 0, 1, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&before)
	now := func() time.Time { return *clock.Load() }

	s, a := &edgetest.Sink{}, &auditor{}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := compliance.New(compliance.Config{Sink: s, Audit: a, Now: now, Logger: quiet})
	rec := &pausable{}
	g := m.Register("a", map[string]compliance.Pausable{"record": rec})
	m.Apply(conf)
	msgs := s.Take()
	var comp *events.Compliance
	var alert *events.Alert
	for _, msg := range msgs {
		switch v := msg.(type) {
		case events.Compliance:
			comp = &v
		case events.Alert:
			if v.Type == events.AlertSignPending && v.Sign == "cam" {
				alert = &v
			}
		}
	}
	if g.Open() || rec.paused != 1 {
		t.Fatal("outputs on under a camera sign that is not valid yet")
	}
	if alert == nil || !strings.Contains(alert.Message, "not valid before 2026-05-01T11:00:00Z") {
		t.Fatalf("no sign_not_yet_valid alert for the camera sign naming verified_at in %+v", msgs)
	}
	if comp == nil || comp.Sign == nil || comp.Sign.Status != configs.LifecyclePending || comp.Outputs[0].Active ||
		!strings.Contains(comp.Outputs[0].Reason, "not valid before") || comp.Zones[0].Analysed {
		t.Fatalf("compliance %+v: want the camera sign not yet valid, record off with the reason, the zone not analysed", comp)
	}

	cc, err := pipeline.FromConfig(conf, cam)
	if err != nil {
		t.Fatal(err)
	}
	out := &gatedOutput{}
	ev := &eventSink{}
	var detections, masked atomic.Int64
	flipped := make(chan struct{})
	var pending struct{ out, events, detections int64 }
	cc.Source = pipeline.FileSource{Path: testclip.Make(t, ".mp4", "-t", "40", "-c:v", "libx264", "-g", "10", "-bf", "0", "-an")}
	cc.Sink, cc.Now, cc.Outputs = ev, now, []pipeline.Output{g.Wrap(out)}
	cc.Logger = quiet
	cc.OnResult = func(r detect.Result, _ []track.Transition) { detections.Add(int64(len(r.Boxes))) }
	cc.OnMasked = func(*mask.Frame) {
		// Half the clip before verified_at, the rest after.
		if masked.Add(1) == 100 {
			pending.out, pending.events, pending.detections = out.n.Load(), int64(ev.count()), detections.Load()
			clock.Store(&valid)
			m.Check()
			close(flipped)
		}
	}
	c, err := pipeline.NewCamera(cc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-flipped:
	case err := <-done:
		t.Fatalf("camera ended before 100 frames were masked: %v", err)
	}
	if pending.out != 0 || pending.events != 0 || pending.detections != 0 {
		t.Fatalf("before verified_at: %d frames reached the output, %d events, %d detections; want none", pending.out, pending.events, pending.detections)
	}
	if !g.Open() || rec.paused != 0 {
		t.Fatal("outputs still off after the camera sign became valid")
	}
	deadline := time.After(2 * time.Minute)
	ended := false
	for !ended && (out.n.Load() == 0 || ev.count() == 0) {
		select {
		case err := <-done:
			if ended = out.n.Load() > 0 && ev.count() > 0; ended {
				continue // the clip ended just after the last event
			}
			t.Fatalf("clip ended: %d frames out, %d events, %d detections after the sign became valid (%v)", out.n.Load(), ev.count(), detections.Load(), err)
		case <-deadline:
			t.Fatalf("after verified_at: %d frames out, %d events; want both", out.n.Load(), ev.count())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if !ended {
		<-done
	}
	msgs = s.Take()
	comp = nil
	for _, msg := range msgs {
		if v, ok := msg.(events.Compliance); ok {
			comp = &v
		}
	}
	if comp == nil || comp.Sign.Status != configs.LifecycleValid || !comp.Outputs[0].Active || !comp.Zones[0].Analysed {
		t.Fatalf("compliance after verified_at %+v: want valid, record on, zone analysed", comp)
	}
	t.Logf("after verified_at: %d frames out, %d events, %d detections", out.n.Load(), ev.count(), detections.Load())
}
