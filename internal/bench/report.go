package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/latency"
	"github.com/edgeprivacy/edge/pipeline"
)

// The criteria of Sustained, each in one place.
const (
	// MinMotionFPS is the motion rate every camera must keep.
	MinMotionFPS = 5.0
	// MinDetectFPS is the detection rate every camera with motion in a
	// signed zone must get.
	MinDetectFPS = 1.0
	// MaxEventLatency bounds p99 from frame arrival to event.
	MaxEventLatency = time.Second
	// minStreamShare is the share of the clip's frame rate a camera must
	// have received: a replay that cannot keep pace is the box failing too.
	minStreamShare = 0.9
)

// Camera is one camera's figures over the measured window.
type Camera struct {
	ID string `json:"id"`
	// Received, Decoded and Masked count frames from the camera's start to
	// the window's end (start-up included), so masked <= decoded <= received.
	Received uint64 `json:"received"`
	Decoded  uint64 `json:"decoded"`
	Masked   uint64 `json:"masked"`
	// ReceivedFPS and MaskedFPS are rates over the window.
	ReceivedFPS float64           `json:"received_fps"`
	MaskedFPS   float64           `json:"masked_fps"`
	Drops       map[string]uint64 `json:"drops"`
	// MotionFPS is masked frames the motion gate evaluated, per second.
	MotionFPS       float64 `json:"motion_fps"`
	MotionPassed    uint64  `json:"motion_passed"`
	DetectRequested uint64  `json:"detect_requested"`
	DetectServed    uint64  `json:"detect_served"`
	DetectSkipped   uint64  `json:"detect_skipped"`
	DetectFPS       float64 `json:"detect_fps"`
	P50MaskMS       float64 `json:"p50_mask_latency_ms"`
	P99MaskMS       float64 `json:"p99_mask_latency_ms"`
	P50ResultMS     float64 `json:"p50_result_latency_ms"`
	P99ResultMS     float64 `json:"p99_result_latency_ms"`
	// People are the person boxes the detector reported; EventsMade the
	// zone transitions made from them and handed to MQTT; Events those the
	// bench's subscriber received.
	People     uint64  `json:"people"`
	EventsMade uint64  `json:"events_made"`
	Events     uint64  `json:"events"`
	P50EventMS float64 `json:"p50_event_latency_ms"`
	P99EventMS float64 `json:"p99_event_latency_ms"`
	Restarts   int     `json:"restarts"`
	Sustained  bool    `json:"sustained"`
	// Why lists each criterion the camera missed.
	Why []string `json:"why,omitempty"`

	mask, result, event          latency.Snapshot
	windowReceived, windowMasked uint64
}

// Report is one trial: Cameras cameras of Clip for Seconds.
type Report struct {
	Clip    string   `json:"clip"`
	Info    ClipInfo `json:"clip_info"`
	Cameras int      `json:"cameras"`
	Outputs bool     `json:"outputs"`
	Seconds float64  `json:"seconds"`
	// Sustained: every camera sustained (see Camera.Why), events delivered
	// when the detector found people, and p99 from arrival to event
	// delivered over MQTT within MaxEventLatency.
	Sustained bool     `json:"sustained"`
	Why       []string `json:"why,omitempty"`
	// Received, Decoded and Masked are the cameras' sums (see Camera).
	Received uint64 `json:"received"`
	Decoded  uint64 `json:"decoded"`
	Masked   uint64 `json:"masked"`
	// DecodeMaskFPS is frames decoded and masked per second over the
	// window, all cameras together.
	DecodeMaskFPS float64 `json:"decode_mask_fps"`
	// FFmpegDecodeFPS is ffmpeg's single-thread decode of the clip per
	// second of wall time (FFmpegDecodeCPUFPS: per second of its CPU time).
	FFmpegDecodeFPS    float64 `json:"ffmpeg_decode_fps"`
	FFmpegDecodeCPUFPS float64 `json:"ffmpeg_decode_cpu_fps"`
	Ratio              float64 `json:"decode_mask_to_ffmpeg"`
	// CapacityFPS is this build decoding and masking the clip on one thread
	// as fast as it goes (CapacityCPUFPS: per second of that thread's CPU
	// time); the ratios compare them with ffmpeg's figures of the same run.
	CapacityFPS      float64           `json:"decode_mask_capacity_fps"`
	CapacityCPUFPS   float64           `json:"decode_mask_capacity_cpu_fps"`
	CapacityRatio    float64           `json:"capacity_to_ffmpeg"`
	CapacityCPURatio float64           `json:"capacity_to_ffmpeg_cpu"`
	Drops            map[string]uint64 `json:"drops"`
	DetectRequested  uint64            `json:"detect_requested"`
	DetectServed     uint64            `json:"detect_served"`
	DetectSkipped    uint64            `json:"detect_skipped"`
	People           uint64            `json:"people"`
	EventsMade       uint64            `json:"events_made"`
	Events           uint64            `json:"events"`
	P50MaskMS        float64           `json:"p50_mask_latency_ms"`
	P99MaskMS        float64           `json:"p99_mask_latency_ms"`
	P99ResultMS      float64           `json:"p99_result_latency_ms"`
	P50EventMS       float64           `json:"p50_event_latency_ms"`
	P99EventMS       float64           `json:"p99_event_latency_ms"`
	// CPUPercent is the process's CPU over the window (100: one core busy);
	// the replayed cameras and the broker are in it too.
	CPUPercent    float64  `json:"cpu_percent"`
	RSSMB         float64  `json:"rss_mb"`
	RSSPerCamMB   float64  `json:"rss_per_camera_mb"`
	RSSSamples    []RSS    `json:"rss_samples,omitempty"`
	PerCamera     []Camera `json:"per_camera"`
	FindMaxTrials []Trial  `json:"find_max_trials,omitempty"`
}

// RSS is the process's resident memory at a moment of the window.
type RSS struct {
	AtSeconds float64 `json:"at_s"`
	MB        float64 `json:"mb"`
	// GoMB is what the Go runtime holds of it (mapped, not released) and
	// GoHeapMB the heap objects within that; the rest of MB is native.
	GoMB     float64 `json:"go_mb"`
	GoHeapMB float64 `json:"go_heap_mb"`
}

// Trial is one step of FindMax.
type Trial struct {
	Cameras   int      `json:"cameras"`
	Sustained bool     `json:"sustained"`
	Why       []string `json:"why,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cameraFigures turns two reads of a camera's stats into its window figures.
func cameraFigures(id string, a, b pipeline.Stats, ev latency.Snapshot, seconds, clipFPS float64, restarts int) Camera {
	c := Camera{ID: id, Drops: map[string]uint64{}, Restarts: restarts,
		mask: b.MaskLatency.Sub(a.MaskLatency), result: b.ResultLatency.Sub(a.ResultLatency), event: ev}
	sub := func(x, y uint64) uint64 {
		if x < y { // the pipeline restarted: its counters began again
			return x
		}
		return x - y
	}
	c.Received, c.Decoded, c.Masked = b.Received, b.Decoded, b.Masked
	c.windowReceived, c.windowMasked = sub(b.Received, a.Received), sub(b.Masked, a.Masked)
	c.ReceivedFPS, c.MaskedFPS = float64(c.windowReceived)/seconds, float64(c.windowMasked)/seconds
	for k, v := range b.Drops {
		c.Drops[k] = sub(v, a.Drops[k])
	}
	c.MotionFPS = float64(sub(b.MotionEvaluated, a.MotionEvaluated)) / seconds
	c.MotionPassed = sub(b.MotionPassed, a.MotionPassed)
	c.DetectRequested = sub(b.DetectRequested, a.DetectRequested)
	c.DetectServed = sub(b.DetectServed, a.DetectServed)
	c.DetectSkipped = sub(b.DetectSkipped, a.DetectSkipped)
	c.DetectFPS = float64(c.DetectServed) / seconds
	c.P50MaskMS, c.P99MaskMS = ms(c.mask.Quantile(0.5)), ms(c.mask.Quantile(0.99))
	c.P50ResultMS, c.P99ResultMS = ms(c.result.Quantile(0.5)), ms(c.result.Quantile(0.99))
	c.People, c.EventsMade = sub(b.People, a.People), sub(b.Events, a.Events)
	c.Events = ev.Count()
	c.P50EventMS, c.P99EventMS = ms(ev.Quantile(0.5)), ms(ev.Quantile(0.99))
	c.Why = c.judge(seconds, clipFPS)
	c.Sustained = len(c.Why) == 0
	return c
}

// judge lists the criteria the camera missed over the window.
func (c *Camera) judge(seconds, clipFPS float64) []string {
	var why []string
	if c.Restarts > 0 {
		why = append(why, fmt.Sprintf("pipeline restarted %d times", c.Restarts))
	}
	// Every frame masked: nothing dropped before or in the mask stage, and no
	// more than a second of frames still on their way at the end.
	for _, k := range []string{"ingest", "stale", "decode_errors", "unsupported", "mask_failed", "mask_busy"} {
		if c.Drops[k] > 0 {
			why = append(why, fmt.Sprintf("%d frames dropped (%s)", c.Drops[k], k))
		}
	}
	if c.windowReceived > c.windowMasked+uint64(clipFPS+1) {
		why = append(why, fmt.Sprintf("%d frames received in the window but only %d masked", c.windowReceived, c.windowMasked))
	}
	if c.ReceivedFPS < minStreamShare*clipFPS {
		why = append(why, fmt.Sprintf("received %.1f fps of a %.1f fps clip", c.ReceivedFPS, clipFPS))
	}
	if want := min(MinMotionFPS, minStreamShare*clipFPS); c.MotionFPS < want {
		why = append(why, fmt.Sprintf("motion evaluated at %.1f fps, below %.1f", c.MotionFPS, want))
	}
	// Motion in a signed zone (frames the gate passed) must get a detection
	// a second; a second may be lost at each end of the window.
	if wantServed := min(float64(c.MotionPassed), seconds*MinDetectFPS) - 2; float64(c.DetectServed) < wantServed {
		why = append(why, fmt.Sprintf("%d detections for %d frames with motion over %.1f s (want >= %.1f)", c.DetectServed, c.MotionPassed, seconds, wantServed))
	}
	if p := c.result.Quantile(0.99); p > MaxEventLatency {
		why = append(why, fmt.Sprintf("p99 arrival to detection result %v > %v", p.Round(time.Millisecond), MaxEventLatency))
	}
	// Every event made must reach a subscriber (the bench waits a moment
	// after the window for those on their way).
	if c.Events < c.EventsMade {
		why = append(why, fmt.Sprintf("%d events made but %d delivered", c.EventsMade, c.Events))
	}
	return why
}

// total fills the report's totals and verdict from its cameras.
func (r *Report) total() {
	r.Drops = map[string]uint64{}
	var maskL, resL, evL latency.Snapshot
	var windowMasked uint64
	r.Sustained = len(r.PerCamera) == r.Cameras
	for i := range r.PerCamera {
		c := &r.PerCamera[i]
		r.Received += c.Received
		r.Decoded += c.Decoded
		r.Masked += c.Masked
		windowMasked += c.windowMasked
		for k, v := range c.Drops {
			r.Drops[k] += v
		}
		r.DetectRequested += c.DetectRequested
		r.DetectServed += c.DetectServed
		r.DetectSkipped += c.DetectSkipped
		r.People += c.People
		r.EventsMade += c.EventsMade
		r.Events += c.Events
		maskL, resL, evL = maskL.Add(c.mask), resL.Add(c.result), evL.Add(c.event)
		if !c.Sustained {
			r.Sustained = false
		}
	}
	if len(r.PerCamera) != r.Cameras {
		r.Why = append(r.Why, fmt.Sprintf("only %d of %d cameras started", len(r.PerCamera), r.Cameras))
	}
	if n := len(r.PerCamera) - countSustained(r.PerCamera); n > 0 {
		r.Why = append(r.Why, fmt.Sprintf("%d cameras not sustained (see per_camera[].why)", n))
	}
	if r.Seconds > 0 {
		r.DecodeMaskFPS = float64(windowMasked) / r.Seconds
	}
	if r.FFmpegDecodeFPS > 0 {
		r.Ratio = r.DecodeMaskFPS / r.FFmpegDecodeFPS
		r.CapacityRatio = r.CapacityFPS / r.FFmpegDecodeFPS
	}
	if r.FFmpegDecodeCPUFPS > 0 {
		r.CapacityCPURatio = r.CapacityCPUFPS / r.FFmpegDecodeCPUFPS
	}
	r.P50MaskMS, r.P99MaskMS = ms(maskL.Quantile(0.5)), ms(maskL.Quantile(0.99))
	r.P99ResultMS = ms(resL.Quantile(0.99))
	r.P50EventMS, r.P99EventMS = ms(evL.Quantile(0.5)), ms(evL.Quantile(0.99))
	// Without events the latency criterion would hold vacuously: people
	// seen over a window must have raised at least one event that arrived.
	if r.People > 0 && r.Events == 0 {
		r.Sustained = false
		r.Why = append(r.Why, fmt.Sprintf("the detector found %d people but no event was delivered (%d made): arrival to event unmeasured", r.People, r.EventsMade))
	}
	if p := evL.Quantile(0.99); p > MaxEventLatency {
		r.Sustained = false
		r.Why = append(r.Why, fmt.Sprintf("p99 arrival to event delivered %v > %v", p.Round(time.Millisecond), MaxEventLatency))
	}
	if r.Cameras > 0 {
		r.RSSPerCamMB = r.RSSMB / float64(r.Cameras)
	}
}

func countSustained(cs []Camera) int {
	n := 0
	for _, c := range cs {
		if c.Sustained {
			n++
		}
	}
	return n
}

// WriteText writes the report for a person: totals, then a line per camera.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	verdict := "SUSTAINED"
	if !r.Sustained {
		verdict = "NOT SUSTAINED: " + strings.Join(r.Why, "; ")
	}
	fmt.Fprintf(&b, "edge bench: %d cameras of %s (%dx%d @ %.4g fps), %.0f s measured, outputs %v\n",
		r.Cameras, r.Clip, r.Info.Width, r.Info.Height, r.Info.FPS, r.Seconds, r.Outputs)
	fmt.Fprintf(&b, "  %s\n", verdict)
	fmt.Fprintf(&b, "  frames: received %d, decoded %d, masked %d; dropped %s\n", r.Received, r.Decoded, r.Masked, dropText(r.Drops))
	fmt.Fprintf(&b, "  decode+mask %.1f fps, ffmpeg -threads 1 decode %.1f fps (%.1f per CPU second): ratio %.2f\n",
		r.DecodeMaskFPS, r.FFmpegDecodeFPS, r.FFmpegDecodeCPUFPS, r.Ratio)
	fmt.Fprintf(&b, "  single thread, as fast as it goes: decode+mask %.1f fps (%.1f per CPU second): %.2fx ffmpeg (%.2fx per CPU second)\n",
		r.CapacityFPS, r.CapacityCPUFPS, r.CapacityRatio, r.CapacityCPURatio)
	fmt.Fprintf(&b, "  detections: requested %d, served %d, skipped %d; people %d; events made %d, delivered %d\n",
		r.DetectRequested, r.DetectServed, r.DetectSkipped, r.People, r.EventsMade, r.Events)
	fmt.Fprintf(&b, "  latency: arrival->masked p50 %.1f ms p99 %.1f ms; arrival->result p99 %.1f ms; arrival->event p50 %.1f ms p99 %.1f ms\n",
		r.P50MaskMS, r.P99MaskMS, r.P99ResultMS, r.P50EventMS, r.P99EventMS)
	fmt.Fprintf(&b, "  process: CPU %.0f%%, RSS %.0f MB (%.1f MB per camera)\n", r.CPUPercent, r.RSSMB, r.RSSPerCamMB)
	for _, s := range r.RSSSamples {
		fmt.Fprintf(&b, "    RSS at %4.0f s: %.0f MB (Go runtime %.0f MB, heap objects %.0f MB; native %.0f MB)\n",
			s.AtSeconds, s.MB, s.GoMB, s.GoHeapMB, s.MB-s.GoMB)
	}
	for _, c := range r.PerCamera {
		ok := "ok"
		if !c.Sustained {
			ok = "NOT SUSTAINED: " + strings.Join(c.Why, "; ")
		}
		fmt.Fprintf(&b, "  %s: rx %d dec %d mask %d drop %s motion %.1f fps detect %d/%d (skipped %d) %.1f fps p99 mask %.0f ms result %.0f ms people %d events %d/%d: %s\n",
			c.ID, c.Received, c.Decoded, c.Masked, dropText(c.Drops), c.MotionFPS, c.DetectServed, c.DetectRequested, c.DetectSkipped,
			c.DetectFPS, c.P99MaskMS, c.P99ResultMS, c.People, c.Events, c.EventsMade, ok)
	}
	for _, t := range r.FindMaxTrials {
		fmt.Fprintf(&b, "  find-max: %d cameras sustained=%v %s\n", t.Cameras, t.Sustained, strings.Join(t.Why, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// dropText is the non-zero drops as reason=n, or "none".
func dropText(d map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		if d[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, d[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
