package app

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/metrics"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

const outputMetricsConfig = `
site: s
mqtt: {broker: "tcp://127.0.0.1:1883", spool_dir: %s}
restream: {addr: "127.0.0.1:%d"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:9/a
    restream: true
    record: {enabled: true, dir: %s}
    encode: {bitrate_kbps: %d}
    signage: s1
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-01-01T00:00:00Z}
`

// TestOutputCountersInMetrics: what a camera's image outputs drop, and
// why, is on /metrics. Frames queued for the encoder when the privacy zones
// change are counted stale_mask, a frame the full queue refused busy; the
// counts survive a reload that rebuilds the encoder, and every output has a
// failures series.
func TestOutputCountersInMetrics(t *testing.T) {
	dir := t.TempDir()
	port := freeport.TCP(t)
	text := func(kbps int) string {
		return fmt.Sprintf(outputMetricsConfig, filepath.Join(dir, "spool"), port, filepath.Join(dir, "rec"), kbps)
	}
	cfg, err := configs.LoadBytes([]byte(text(800)))
	if err != nil {
		t.Fatal(err)
	}
	log := quietLogger()
	r := newRunner(log, &edgetest.Sink{})
	r.inForce.Store(&loaded{cfg: cfg})
	mon := compliance.New(compliance.Config{Sink: &edgetest.Sink{}, Logger: log})
	if r.outs, err = newOutputs(cfg, log, mon, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _ := cfg.Camera("a")
	cam, err := r.build(ctx, cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	r.setCurrent(cam) // listed, never run: the test offers the frames
	mon.Apply(cfg)    // the sign is valid: the gate opens
	front := r.built["a"].outputs[0]

	// A mask stage of its own: its epoch is what makes frames stale.
	ep := maskepoch.New("none")
	ms, err := mask.New(mask.Config{Zones: zones.NewSet(nil, nil), Epoch: ep, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for i := range encode.QueueSize + 1 { // one more than the queue holds
		pic, err := yuv.New(64, 48)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ms.Apply(decode.Frame{Pic: pic, Seq: uint64(i), PTS: time.Duration(i) * 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		front.Offer(f)
	}
	ep.Advance("1 zone", nil)
	// The encoder starts only now, and finds the queued frames stale.
	wait, err := r.outs.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); wait() }()

	m := metrics.New(r)
	want := map[string]float64{
		`edge_output_dropped_total{camera="a",output="encode",reason="stale_mask"}`:   encode.QueueSize,
		`edge_output_dropped_total{camera="a",output="encode",reason="busy"}`:         1,
		`edge_output_dropped_total{camera="a",output="restream",reason="stale_mask"}`: 0,
		`edge_output_dropped_total{camera="a",output="record",reason="no_keyframe"}`:  0,
		`edge_output_failures_total{camera="a",output="encode"}`:                      0,
		`edge_output_failures_total{camera="a",output="restream"}`:                    0,
		`edge_output_failures_total{camera="a",output="record"}`:                      0,
	}
	check := func(when string) {
		t.Helper()
		var got map[string]float64
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = scrapeSeries(t, m)
			ok := true
			for k, v := range want {
				if g, has := got[k]; !has || g != v {
					ok = false
				}
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		for k, v := range want {
			if g, has := got[k]; !has || g != v {
				t.Errorf("%s: %s = %v (present %v), want %v", when, k, g, has, v)
			}
		}
	}
	check("before the reload")

	// A new bitrate rebuilds the encoder, its fan-out, path and recorder:
	// the counts of the old ones are kept.
	next, err := configs.LoadBytes([]byte(text(900)))
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := r.outs.reconfigure(next)
	if err != nil || len(rebuilt) != 1 || rebuilt[0] != "a/stream" {
		t.Fatalf("reconfigure: %v %v, want a/stream rebuilt", rebuilt, err)
	}
	check("after the encoder was rebuilt")
}

// scrapeSeries serves /metrics once and returns the edge_output_ series as
// name{labels sorted} -> value.
func scrapeSeries(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		if !strings.HasPrefix(name, "edge_output_") {
			continue
		}
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() { // sorted by name
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[name+"{"+strings.Join(labels, ",")+"}"] = counterValue(s)
		}
	}
	return out
}

func counterValue(s *dto.Metric) float64 {
	if s.Counter != nil {
		return s.Counter.GetValue()
	}
	return s.Gauge.GetValue()
}
