package metrics_test

import (
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/metrics"
)

type source struct{}

func (source) Cameras() []metrics.CameraStats {
	return []metrics.CameraStats{
		{ID: "lobby", Up: true, Decoded: 100, Masked: 99, Drops: map[string]uint64{"mask_failed": 1, "detect_busy": 7},
			DetectRequested: 40, DetectServed: 30, DetectSkipped: 10,
			Outputs: []metrics.OutputStats{
				{Output: "encode", Dropped: map[string]uint64{metrics.DropStaleMask: 2, metrics.DropBusy: 3}, Failures: 1},
				{Output: "record", Dropped: map[string]uint64{metrics.DropStaleMask: 5}, Failures: 4},
			}},
		{ID: "yard", Up: false},
	}
}
func (source) Signs() []metrics.SignStats {
	return []metrics.SignStats{{ID: "s1", Valid: true}, {ID: "old", Valid: false}}
}
func (source) MQTT() metrics.MQTTStats {
	return metrics.MQTTStats{Spooled: 3, Connected: true, Failovers: 2, ConnectFailures: 5}
}

type discard struct{ n int }

func (d *discard) Offer(events.Message) bool { d.n++; return true }

// scrape parses what Handler serves with Prometheus's own text parser.
func scrape(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// value returns the value of the series of name with exactly labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	m := metrics.New(source{})
	next := &discard{}
	s := m.Sink(next)
	s.Offer(events.Event{Camera: "lobby", Zone: "door", Type: events.TypeEnter})
	s.Offer(events.Event{Camera: "lobby", Zone: "door", Type: events.TypeEnter})
	s.Offer(events.Event{Camera: "lobby", Zone: "door", Type: events.TypeExit})
	s.Offer(events.Occupancy{Camera: "lobby", Zone: "door", Count: 1})
	s.Offer(events.Occupancy{Camera: "yard", Zone: "gate", Count: 4})
	s.Offer(events.State{Camera: "yard", Status: events.StatusStopped})
	if next.n != 6 {
		t.Fatalf("sink passed on %d of 6 messages", next.n)
	}
	m.ObserveStage("mask", time.Millisecond)
	m.ObserveStage("mask", 2*time.Millisecond)
	m.ObserveStage("detect", 40*time.Millisecond)

	fams := scrape(t, m)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"edge_frames_decoded_total", map[string]string{"camera": "lobby"}, 100},
		{"edge_frames_masked_total", map[string]string{"camera": "lobby"}, 99},
		{"edge_frames_dropped_total", map[string]string{"camera": "lobby", "reason": "mask_failed"}, 1},
		{"edge_frames_dropped_total", map[string]string{"camera": "lobby", "reason": "detect_busy"}, 7},
		{"edge_detections_total", map[string]string{"camera": "lobby", "outcome": "requested"}, 40},
		{"edge_detections_total", map[string]string{"camera": "lobby", "outcome": "served"}, 30},
		{"edge_detections_total", map[string]string{"camera": "lobby", "outcome": "skipped"}, 10},
		{"edge_camera_up", map[string]string{"camera": "lobby"}, 1},
		{"edge_output_dropped_total", map[string]string{"camera": "lobby", "output": "encode", "reason": "stale_mask"}, 2},
		{"edge_output_dropped_total", map[string]string{"camera": "lobby", "output": "encode", "reason": "busy"}, 3},
		{"edge_output_dropped_total", map[string]string{"camera": "lobby", "output": "record", "reason": "stale_mask"}, 5},
		{"edge_output_failures_total", map[string]string{"camera": "lobby", "output": "encode"}, 1},
		{"edge_output_failures_total", map[string]string{"camera": "lobby", "output": "record"}, 4},
		{"edge_camera_up", map[string]string{"camera": "yard"}, 0},
		{"edge_signage_valid", map[string]string{"sign": "s1"}, 1},
		{"edge_signage_valid", map[string]string{"sign": "old"}, 0},
		{"edge_mqtt_spooled_events", map[string]string{}, 3},
		{"edge_mqtt_connected", map[string]string{}, 1},
		{"edge_mqtt_failovers_total", map[string]string{}, 2},
		{"edge_mqtt_connect_failures_total", map[string]string{}, 5},
		{"edge_events_total", map[string]string{"camera": "lobby", "zone": "door", "type": "enter"}, 2},
		{"edge_events_total", map[string]string{"camera": "lobby", "zone": "door", "type": "exit"}, 1},
		{"edge_zone_occupancy", map[string]string{"camera": "lobby", "zone": "door"}, 1},
		{"edge_stage_seconds", map[string]string{"stage": "mask"}, 2},
		{"edge_stage_seconds", map[string]string{"stage": "detect"}, 1},
	}
	for _, c := range checks {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, m := range fams["edge_zone_occupancy"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetValue() == "yard" {
				t.Errorf("occupancy of a stopped camera still exported")
			}
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: Go or process collector missing", name)
		}
	}
}
