package pipeline

import (
	"slices"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/latency"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/zones"
)

// fpsWindow turns counters into rates between two state publications.
type fpsWindow struct {
	at                time.Time
	decoded, analysed uint64
}

// State is the camera's retained state at t. occ is the latest occupancy per zone.
func (c *Camera) State(t time.Time, occ map[string]int) events.State {
	s := events.State{Camera: c.cfg.Camera, Status: events.StatusConnecting, TS: time.Now().UTC(), Drops: map[string]uint64{}}
	if c.status != nil {
		in := c.status()
		s.Status, s.Reason = in.Status, redact.Text(in.Reason)
		if in.Codec != 0 {
			s.Codec = in.Codec.String()
		}
	} else {
		s.Status = events.StatusStreaming
	}
	s.Drops = c.Drops()

	c.mu.Lock()
	st := c.stages
	c.mu.Unlock()
	if st != nil {
		d, m := st.dec.Stats(), st.mask.Stats()
		s.Width, s.Height = d.Width, d.Height
		s.FramesDecoded, s.FramesMasked = d.Decoded, m.Masked
		if d.Refused != "" && s.Status == events.StatusStreaming {
			s.Status, s.Reason = events.StatusUnsupported, d.Refused
		}
		analysed := st.detect.Stats().Analysed
		now := time.Now()
		c.mu.Lock()
		// Counts start again with each run of the camera (and a picture
		// not handed on is uncounted): a window whose count went down
		// spans a restart and says nothing of the rate.
		if prev := c.fps; !prev.at.IsZero() && d.Decoded >= prev.decoded && analysed >= prev.analysed {
			if dt := now.Sub(prev.at).Seconds(); dt > 0.2 {
				s.InputFPS = float64(d.Decoded-prev.decoded) / dt
				s.ProcessedFPS = float64(analysed-prev.analysed) / dt
			}
		}
		c.fps = fpsWindow{at: now, decoded: d.Decoded, analysed: analysed}
		c.mu.Unlock()
		req, served, skipped := st.detections()
		s.Detections = &events.DetectionStats{Requested: req, Served: served, Skipped: skipped}
	}
	for _, n := range s.Drops {
		s.FramesDropped += n
	}

	for _, z := range c.cfg.Zones.Privacy() {
		s.Zones = append(s.Zones, events.ZoneState{ID: z.ID, Kind: string(zones.Privacy)})
	}
	active := c.cfg.Zones.ActiveAt(t)
	for _, z := range c.cfg.Zones.Monitored() {
		s.Zones = append(s.Zones, events.ZoneState{
			ID: z.ID, Kind: string(zones.Monitored), SignageID: z.Signage,
			SignageStatus:   string(c.cfg.Zones.SignageStatus(z.ID, t)),
			DetectionActive: slices.ContainsFunc(active, func(a zones.Zone) bool { return a.ID == z.ID }),
			Occupancy:       occ[z.ID],
		})
	}
	return s
}

// Drops returns the camera's dropped frames by reason (ingest, stale,
// decode_errors, mask_failed, mask_busy, motion_busy, detect_busy,
// stale_mask) since its pipeline last started. ingest: the buffer in front
// of the decoder was full; stale: units waited there longer than the ingest
// bound (1 s); stale_mask: frames masked before a privacy change applied in
// place.
func (c *Camera) Drops() map[string]uint64 {
	drops := map[string]uint64{}
	if src, ok := c.cfg.Source.(interface{ Stats() ingest.Stats }); ok {
		st := src.Stats()
		drops["ingest"], drops["stale"] = st.Dropped, st.Stale
	}
	c.mu.Lock()
	st := c.stages
	c.mu.Unlock()
	if st != nil {
		d, m, g := st.dec.Stats(), st.mask.Stats(), st.motion.Stats()
		drops["decode_errors"] = d.Errors
		drops["unsupported"] = d.Unsupported
		drops["mask_failed"] = m.Failed
		drops["mask_busy"] = m.Downstream
		drops["motion_busy"] = g.Busy + st.tapBusy.Load()
		drops["detect_busy"] = st.limit.busy.Load()
		drops["stale_mask"] = st.stale.Load() + st.detect.Stats().StaleMask
	}
	return drops
}

// Status is the camera's connection status (events.StatusStreaming, ...).
func (c *Camera) Status() string {
	status := events.StatusStreaming
	if c.status != nil {
		status = c.status().Status
	}
	if status == events.StatusStreaming && c.refused() != "" {
		return events.StatusUnsupported
	}
	return status
}

// Counters are a camera's frame counts since its pipeline last started.
type Counters struct {
	Decoded, Masked, MaskFailed uint64
}

// Counters returns the frame counts of the current run (zero before the first).
func (c *Camera) Counters() Counters {
	c.mu.Lock()
	st := c.stages
	c.mu.Unlock()
	if st == nil {
		return Counters{}
	}
	m := st.mask.Stats()
	return Counters{Decoded: st.dec.Stats().Decoded, Masked: m.Masked, MaskFailed: m.Failed}
}

// Stats are a camera's counters for benchmarks: frame counts and drops of
// the current run, detection requests, and latency histograms since the
// camera was created (take the difference of two reads for a window).
// Masked <= Decoded <= Received always holds within one read.
type Stats struct {
	// Received are access units from the source (0 for a source without counts).
	Received uint64
	// Reconnects are the source's sessions after its first (ingest).
	Reconnects uint64
	Decoded    uint64
	Masked     uint64
	// Drops are by reason, as Drops returns them.
	Drops map[string]uint64
	// MotionEvaluated are masked frames the motion gate looked at;
	// MotionPassed those it sent on for detection.
	MotionEvaluated, MotionPassed uint64
	// DetectRequested are frames offered to the detector after the detect.fps
	// cap; DetectServed those it analysed; DetectSkipped those it did not
	// (busy, or nothing analysable in the frame).
	DetectRequested, DetectServed, DetectSkipped uint64
	// People are the person boxes the detector reported (of this run);
	// Events the zone transitions (enter, exit) made from the results and
	// handed to the MQTT sink, across restarts. A benchmark compares them
	// with what its subscriber receives.
	People, Events uint64
	// MaskLatency is from a unit's arrival to its masked frame;
	// ResultLatency from arrival to its detection result, the moment events
	// are made.
	MaskLatency, ResultLatency latency.Snapshot
}

// Stats returns the camera's counters (zero counts before the first run).
func (c *Camera) Stats() Stats {
	s := Stats{Drops: c.Drops(), MaskLatency: c.maskLatency.Snapshot(), ResultLatency: c.resultLatency.Snapshot(),
		Events: c.events.Load()}
	// Read downstream first, so that masked <= decoded <= received holds
	// however the frames move meanwhile.
	c.mu.Lock()
	st := c.stages
	c.mu.Unlock()
	if st != nil {
		s.Masked = st.mask.Stats().Masked
		s.Decoded = st.dec.Stats().Decoded
	}
	if src, ok := c.cfg.Source.(interface{ Stats() ingest.Stats }); ok {
		is := src.Stats()
		s.Received, s.Reconnects = is.Received, is.Reconnects
	}
	if st == nil {
		return s
	}
	g := st.motion.Stats()
	s.MotionEvaluated, s.MotionPassed = g.In, g.Passed
	s.DetectRequested, s.DetectServed, s.DetectSkipped = st.detections()
	s.People = st.detect.Stats().Detections
	return s
}

// detections counts the frames offered to detection after the detect.fps
// cap (requested), those analysed (served), and the rest (skipped): the
// detector busy (the limiter's or the box pool's newest-wins), or nothing
// analysable in the frame.
func (st *stageSet) detections() (requested, served, skipped uint64) {
	d := st.detect.Stats()
	busy := st.limit.busy.Load()
	return st.limit.passed.Load() + busy, d.Analysed, busy + d.Pool.Skipped + (d.Frames - d.Analysed)
}
