// Package metrics exports what edge does as Prometheus metrics: frames per
// camera (decoded, masked, dropped by reason), what each image output
// dropped (by reason) and the failures it recovered from, events and occupancy per
// zone, signage validity, camera and MQTT spool health, the time each stage
// takes, and the Go and process collectors.
//
// Frame counts are read from the running cameras at scrape time, so the hot
// path pays nothing for them; they count since the camera's pipeline last
// started, and a restart shows as a counter reset, which rate() handles.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeprivacy/edge/events"
)

// CameraStats is one camera's counts, read at scrape time.
type CameraStats struct {
	ID string
	// Up is whether the camera is streaming now.
	Up              bool
	Decoded, Masked uint64
	// Drops counts dropped frames by reason.
	Drops map[string]uint64
	// DetectRequested, DetectServed and DetectSkipped count frames offered
	// to person detection, analysed, and skipped (pool busy: a newer frame
	// won; or nothing analysable).
	DetectRequested, DetectServed, DetectSkipped uint64
	// Outputs are the camera's image outputs, one entry each.
	Outputs []OutputStats
}

// OutputStats is one image output of a camera (encode, restream, record,
// snapshots), counted since the process started: the outputs outlive
// restarts of the camera's pipeline, and a reload that rebuilds one adds
// the new one's counts to the old one's.
type OutputStats struct {
	Output string
	// Dropped counts what the output did not publish, by reason (see
	// OutputDropReasons).
	Dropped map[string]uint64
	// Failures counts errors the output recovered from: pictures the
	// encoder rejected, RTP units not written, recording segments ended by
	// a write error, snapshots not encoded.
	Failures uint64
}

// Reasons an output drops a frame or an encoded unit.
const (
	// DropBusy: the output's queue was full (and, for encoded units, the
	// units up to the next keyframe after it).
	DropBusy = "busy"
	// DropStaleMask: a reload changed the camera's privacy zones after the
	// picture was masked, so it is never published.
	DropStaleMask = "stale_mask"
	// DropNoKeyframe: a recording waited for a keyframe (its start, a new
	// picture size).
	DropNoKeyframe = "no_keyframe"
	// DropRebuild: frames that arrived while a reload rebuilt the encoder.
	DropRebuild = "rebuild"
)

// SignStats is one registered sign.
type SignStats struct {
	ID    string
	Valid bool
}

// Source is what the running application tells the metrics at scrape time.
type Source interface {
	Cameras() []CameraStats
	Signs() []SignStats
	// MQTT is the state of the connection to the broker.
	MQTT() MQTTStats
}

// MQTTStats is the publisher's view of the broker.
type MQTTStats struct {
	// Spooled is the number of events waiting on disk for the broker.
	Spooled int
	// Connected says a broker node holds the connection now.
	Connected bool
	// Failovers counts connections to another node than the previous one;
	// ConnectFailures failed connection attempts.
	Failovers, ConnectFailures uint64
}

// Sink takes messages for MQTT without blocking (pipeline.Sink).
type Sink interface {
	Offer(m events.Message) bool
}

// Metrics is one registry of edge's metrics.
type Metrics struct {
	reg       *prometheus.Registry
	events    *prometheus.CounterVec
	occupancy *prometheus.GaugeVec
	stage     *prometheus.HistogramVec
}

var (
	descDecoded  = prometheus.NewDesc("edge_frames_decoded_total", "Frames decoded, since the camera's pipeline started.", []string{"camera"}, nil)
	descMasked   = prometheus.NewDesc("edge_frames_masked_total", "Frames whose privacy zones were painted over, since the camera's pipeline started.", []string{"camera"}, nil)
	descDropped  = prometheus.NewDesc("edge_frames_dropped_total", "Frames dropped, by reason (ingest, stale, decode_errors, mask_failed, mask_busy, motion_busy, detect_busy, stale_mask), since the camera's pipeline started.", []string{"camera", "reason"}, nil)
	descDetect   = prometheus.NewDesc("edge_detections_total", "Frames offered to person detection, by outcome (requested, served, skipped), since the camera's pipeline started.", []string{"camera", "outcome"}, nil)
	descUp       = prometheus.NewDesc("edge_camera_up", "1 while the camera streams, 0 otherwise.", []string{"camera"}, nil)
	descSign     = prometheus.NewDesc("edge_signage_valid", "1 while the registered sign is valid (verified and not expired), 0 otherwise.", []string{"sign"}, nil)
	descSpool    = prometheus.NewDesc("edge_mqtt_spooled_events", "Events waiting in the disk spool for the MQTT broker.", nil, nil)
	descMQTTUp   = prometheus.NewDesc("edge_mqtt_connected", "1 while a broker node holds the MQTT connection.", nil, nil)
	descFailover = prometheus.NewDesc("edge_mqtt_failovers_total", "Connections made to another broker node than the previous one.", nil, nil)
	descConnFail = prometheus.NewDesc("edge_mqtt_connect_failures_total", "Failed MQTT connection attempts.", nil, nil)
	descOutDrop  = prometheus.NewDesc("edge_output_dropped_total", "Frames or encoded units an image output (encode, restream, record, snapshots) did not publish, by reason (busy, stale_mask, no_keyframe, rebuild), since the process started.", []string{"camera", "output", "reason"}, nil)
	descOutFail  = prometheus.NewDesc("edge_output_failures_total", "Errors an image output recovered from (encoder rejections, RTP writes, recording segments ended by a write error, snapshot encodings), since the process started.", []string{"camera", "output"}, nil)
)

// New returns the metrics of an application that src describes.
func New(src Source) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_events_total", Help: "Enter and exit events produced, by camera, zone and type.",
		}, []string{"camera", "zone", "type"}),
		occupancy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edge_zone_occupancy", Help: "People in the monitored zone now.",
		}, []string{"camera", "zone"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edge_stage_seconds", Help: "Time one frame takes in a stage (decode, mask, detect).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12), // 0.1 ms .. 2.4 s
		}, []string{"stage"}),
	}
	m.reg.MustRegister(m.events, m.occupancy, m.stage, collector{src},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveStage records the time one frame took in a stage.
func (m *Metrics) ObserveStage(stage string, d time.Duration) {
	m.stage.WithLabelValues(stage).Observe(d.Seconds())
}

// Sink wraps next: events and occupancy are counted as they pass.
func (m *Metrics) Sink(next Sink) Sink { return events.Tap{Observe: m.observe, Next: next} }

func (m *Metrics) observe(msg events.Message) {
	switch v := msg.(type) {
	case events.Event:
		m.events.WithLabelValues(v.Camera, v.Zone, v.Type).Inc()
	case events.Occupancy:
		m.occupancy.WithLabelValues(v.Camera, v.Zone).Set(float64(v.Count))
	case events.State:
		if v.Status == events.StatusStopped {
			// A removed camera has no zones to count in.
			m.occupancy.DeletePartialMatch(prometheus.Labels{"camera": v.Camera})
		}
	}
}

// collector reads the per-camera counts, signs and spool at scrape time.
type collector struct{ src Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDecoded, descMasked, descDropped, descDetect, descUp, descSign, descSpool, descMQTTUp, descFailover, descConnFail, descOutDrop, descOutFail} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, cam := range c.src.Cameras() {
		ch <- prometheus.MustNewConstMetric(descDecoded, prometheus.CounterValue, float64(cam.Decoded), cam.ID)
		ch <- prometheus.MustNewConstMetric(descMasked, prometheus.CounterValue, float64(cam.Masked), cam.ID)
		for reason, n := range cam.Drops {
			ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(n), cam.ID, reason)
		}
		ch <- prometheus.MustNewConstMetric(descDetect, prometheus.CounterValue, float64(cam.DetectRequested), cam.ID, "requested")
		ch <- prometheus.MustNewConstMetric(descDetect, prometheus.CounterValue, float64(cam.DetectServed), cam.ID, "served")
		ch <- prometheus.MustNewConstMetric(descDetect, prometheus.CounterValue, float64(cam.DetectSkipped), cam.ID, "skipped")
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, boolValue(cam.Up), cam.ID)
		for _, o := range cam.Outputs {
			for reason, n := range o.Dropped {
				ch <- prometheus.MustNewConstMetric(descOutDrop, prometheus.CounterValue, float64(n), cam.ID, o.Output, reason)
			}
			ch <- prometheus.MustNewConstMetric(descOutFail, prometheus.CounterValue, float64(o.Failures), cam.ID, o.Output)
		}
	}
	for _, s := range c.src.Signs() {
		ch <- prometheus.MustNewConstMetric(descSign, prometheus.GaugeValue, boolValue(s.Valid), s.ID)
	}
	mq := c.src.MQTT()
	ch <- prometheus.MustNewConstMetric(descSpool, prometheus.GaugeValue, float64(mq.Spooled))
	ch <- prometheus.MustNewConstMetric(descMQTTUp, prometheus.GaugeValue, boolValue(mq.Connected))
	ch <- prometheus.MustNewConstMetric(descFailover, prometheus.CounterValue, float64(mq.Failovers))
	ch <- prometheus.MustNewConstMetric(descConnFail, prometheus.CounterValue, float64(mq.ConnectFailures))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
