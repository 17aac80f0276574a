package pipeline

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/latency"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/motion"
	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// Source produces access units: a live RTSP camera, or a file for verify runs.
// It closes out when it returns.
type Source interface {
	Run(ctx context.Context, out chan<- media.AccessUnit) error
}

// Sink takes messages for MQTT without ever blocking the frame path.
type Sink interface {
	Offer(m events.Message) bool
}

// CameraConfig is everything one camera's pipeline needs.
type CameraConfig struct {
	Site, Camera string
	// Source feeds the pipeline; usually an *ingest.Ingest.
	Source Source
	// Zones holds the camera's privacy and monitored zones and the signage.
	Zones *zones.Set
	// MaskColor is the privacy fill as B, G, R.
	MaskColor [3]uint8
	// DetectFPS caps analysed frames per second of stream time. Required.
	DetectFPS float64
	// DetectPool, when set, is the box's shared detector workers; live
	// cameras detect there (offline runs never: they analyse every frame).
	DetectPool *detect.Pool
	// Detect configures the detector; Zones and Clock are filled in here.
	Detect detect.Config
	// Track configures the tracker; Zones is filled in here.
	Track track.Config
	// Motion configures the gate; Zones and Clock are filled in here.
	Motion motion.Config
	// Sink receives events, occupancy and state. Required.
	Sink Sink
	// Offline processes every frame (no drops for a slow consumer) and judges
	// signage at the frame's stream time from Start. Verify runs set it.
	Offline bool
	// MotionCrops makes an offline run detect as live cameras do, on the
	// crops around motion and the people found last (detect.Config's
	// MotionCrops), instead of the whole analysis area of every frame:
	// verify --motion-crops scores the detection the cameras run. Live
	// runs always detect so.
	MotionCrops bool
	// Start is the wall-clock time of the stream's first frame in offline runs.
	Start time.Time
	// Now is the wall clock of live runs. It defaults to time.Now.
	Now func() time.Time
	// StateEvery is how often the retained state is refreshed. It defaults to 5 s;
	// a change of signage status is published within a second regardless.
	StateEvery time.Duration
	// OnMasked, when set, sees every frame that leaves the mask stage (verify
	// checks each one). It must not keep the frame beyond the call.
	OnMasked func(*mask.Frame)
	// Outputs receive every masked frame (the encoder of restream and
	// recordings, the snapshot output). Each gets its own reference and
	// must never block: a busy output drops the frame (closing it) and
	// counts the drop itself. One that is a Resetter is reset when a run
	// ends.
	Outputs []Output
	// OnStart, when set, is called each time the pipeline (re)starts.
	OnStart func(*Camera)
	// OnResult, when set, sees every detection result with the transitions it caused.
	OnResult func(detect.Result, []track.Transition)
	// ObserveStage, when set, is told how long each decode, mask and detect
	// call took (stage "decode", "mask", "detect"), for metrics.
	ObserveStage func(stage string, d time.Duration)
	Logger       *slog.Logger
}

// Output takes masked frames off the frame path. Offer must return at once;
// the output owns the reference it is given and closes it exactly once.
type Output interface {
	Offer(f *mask.Frame)
}

// Resetter is an Output that keeps a frame beyond Offer (the snapshot
// output keeps the newest). Reset is called when a run of the camera ends,
// so that nothing masked under the zones of that run is served after it.
type Resetter interface {
	Reset()
}

// Camera is one camera's running pipeline.
type Camera struct {
	cfg      CameraConfig
	log      *slog.Logger
	sinkFull *ratelog.Limiter
	// clock is the camera's one clock (wall clock live, stream time from
	// Start offline), given to every stage that needs the time.
	clock *clock.Clock
	// epoch numbers the versions of the privacy zones the mask stage paints
	// with: advanced by a privacy change (Reconfigure) and when a run ends,
	// so that outputs drop every frame masked before.
	epoch *maskepoch.Clock

	mu     sync.Mutex
	stages *stageSet // of the current run, for state
	fps    fpsWindow
	status func() ingest.State

	// Latency from a unit's arrival to its masked frame and to its detection
	// result, across restarts (see Stats).
	maskLatency, resultLatency latency.Histogram
	// events counts the zone transitions handed to the sink, across
	// restarts (see Stats).
	events atomic.Uint64
}

type stageSet struct {
	tapBusy atomic.Uint64 // frames analysis was too busy to take (outputs got them)
	stale   atomic.Uint64 // frames masked before a privacy change, dropped at the tap
	dec     *decode.Decoder
	mask    *mask.Stage
	motion  *motion.Gate
	limit   *limiter
	detect  *detect.Stage
}

// NewCamera checks cfg and returns a camera ready to Run.
func NewCamera(cfg CameraConfig) (*Camera, error) {
	if cfg.Camera == "" {
		return nil, errors.New("pipeline: camera id is empty")
	}
	for _, part := range []struct {
		missing bool
		name    string
	}{{cfg.Source == nil, "source"}, {cfg.Zones == nil, "zone set"}, {cfg.Sink == nil, "sink"}} {
		if part.missing {
			return nil, fmt.Errorf("pipeline: camera %s has no %s", cfg.Camera, part.name)
		}
	}
	if !(cfg.DetectFPS > 0) {
		return nil, fmt.Errorf("pipeline: camera %s: detect fps %v is not positive (detect.fps; configs fills in its default)", cfg.Camera, cfg.DetectFPS)
	}
	if cfg.StateEvery <= 0 {
		cfg.StateEvery = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Camera{cfg: cfg, log: cfg.Logger.With("camera", cfg.Camera), clock: clock.Live(cfg.Now),
		epoch: maskepoch.New(zones.Fingerprint(cfg.Zones.Privacy()))}
	if cfg.Offline {
		// Offline runs judge signage at the frame's own stream time, so a
		// verify run gives the same answer however fast it goes.
		c.clock = clock.Offline(cfg.Start)
	}
	c.sinkFull = ratelog.New(c.log, slog.LevelWarn, "MQTT queue full; message dropped")
	if s, ok := cfg.Source.(interface{ State() ingest.State }); ok {
		c.status = s.State
	}
	return c, nil
}

// Run runs the pipeline until ctx is done (nil) or a stage fails (its error).
// Every goroutine it starts has ended when it returns.
func (c *Camera) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	st := &stageSet{}
	observe := func(stage string) func(time.Duration) {
		if c.cfg.ObserveStage == nil {
			return nil
		}
		return func(d time.Duration) { c.cfg.ObserveStage(stage, d) }
	}
	var err error
	if st.dec, err = decode.New(decode.Config{Logger: c.log, Observe: observe("decode")}); err != nil {
		return err
	}
	if st.mask, err = mask.New(mask.Config{Zones: c.cfg.Zones, Epoch: c.epoch, Color: c.cfg.MaskColor, Block: c.cfg.Offline, Logger: c.log, Observe: observe("mask")}); err != nil {
		return err
	}
	mcfg := c.cfg.Motion
	mcfg.Zones, mcfg.Clock, mcfg.Block, mcfg.Logger = c.cfg.Zones, c.clock, c.cfg.Offline, c.log
	if st.motion, err = motion.New(mcfg); err != nil {
		return err
	}
	st.limit = &limiter{interval: time.Duration(float64(time.Second) / c.cfg.DetectFPS), block: c.cfg.Offline}
	c.mu.Lock() // Reconfigure may change MinScore
	dcfg := c.cfg.Detect
	c.mu.Unlock()
	dcfg.Zones, dcfg.Clock, dcfg.Logger, dcfg.Observe = c.cfg.Zones, c.clock, c.log, observe("detect")
	if !c.cfg.Offline {
		// Live: detect on what moved, so the box's detector serves many
		// cameras; offline runs analyse the whole area of every frame
		// unless asked to detect as live cameras do.
		dcfg.Pool, dcfg.Name, dcfg.MotionCrops = c.cfg.DetectPool, c.cfg.Camera, true
	}
	dcfg.MotionCrops = dcfg.MotionCrops || c.cfg.MotionCrops
	if st.detect, err = detect.New(dcfg); err != nil {
		return err
	}
	c.mu.Lock()
	c.stages = st
	c.mu.Unlock()
	if c.cfg.OnStart != nil {
		c.cfg.OnStart(c)
	}

	// Little room here: a live camera's backlog waits in ingest, whose age
	// bound (ingest.Config.MaxAge) drops it once it is stale; units queued
	// here would be beyond that bound.
	aus := make(chan media.AccessUnit, 2)
	decoded := make(chan decode.Frame, 2)
	// Room for a few frames: the tap never blocks, but with every core busy
	// (decoders and the detector of dozens of cameras) its goroutine can
	// wait a couple of frame intervals for a core, and the mask stage would
	// drop a masked frame meanwhile (mask_busy: a 720p bench lost one frame
	// in 20 s at 18 and at 24 cameras with room for 2).
	masked := make(chan *mask.Frame, 4)
	tapped := make(chan *mask.Frame, 2)
	moving := make(chan *mask.Frame, 1)
	limited := make(chan *mask.Frame, 1)
	results := make(chan detect.Result, 4)

	var wg sync.WaitGroup
	errs := make(chan error, 16) // room for every stage to fail once, by error or panic
	goStage := func(name string, run func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic is a bug, but it is this camera's: it fails this
			// pipeline (the supervisor restarts it), not every camera.
			defer func() {
				if p := recover(); p != nil {
					c.log.Error("stage panicked; restarting the camera", "stage", name, "panic", p, "stack", string(debug.Stack()))
					errs <- fmt.Errorf("camera %s: %s: panic: %v", c.cfg.Camera, name, p)
					cancel()
				}
			}()
			// An error after cancellation is only the stage noticing it.
			if err := run(); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("camera %s: %s: %w", c.cfg.Camera, name, err)
				cancel()
			}
		}()
	}
	goStage("source", func() error { return c.cfg.Source.Run(ctx, aus) })
	goStage("decode", func() error { return st.dec.Run(ctx, aus, decoded) })
	goStage("mask", func() error { return st.mask.Run(ctx, decoded, masked) })
	goStage("tap", func() error {
		defer close(tapped)
		for f := range masked {
			c.clock.Advance(f.PTS())
			if at := f.Received(); !at.IsZero() {
				c.maskLatency.Observe(time.Since(at))
			}
			if c.cfg.OnMasked != nil {
				c.cfg.OnMasked(f)
			}
			if f.Stale() {
				// Masked before a privacy change and queued since: for no
				// output and not for analysis (each checks again).
				st.stale.Add(1)
				f.Close()
				continue
			}
			for _, o := range c.cfg.Outputs {
				o.Offer(f.Ref())
			}
			// Live: analysis must not hold back the outputs, which have had
			// this frame already; a busy motion stage misses it instead.
			if mask.Send(ctx, tapped, f, c.cfg.Offline) == mask.Dropped {
				st.tapBusy.Add(1)
			}
		}
		return nil
	})
	goStage("motion", func() error { return st.motion.Run(ctx, tapped, moving) })
	goStage("limit", func() error { return st.limit.Run(ctx, moving, limited) })
	goStage("detect", func() error { return st.detect.Run(ctx, limited, results) })

	c.analytics(ctx, results, c.clock.Now)
	cancel()
	wg.Wait()
	// Frames still queued when the stages stopped are ours to free.
	drain(aus, decoded, masked, tapped, moving, limited)
	// Whatever this run masked and an output still holds is not to be
	// published after it: the next run (a restart, maybe with other
	// settings) starts a new epoch.
	c.epoch.Advance(c.epoch.Zones(), nil)
	for _, o := range c.cfg.Outputs {
		if r, ok := o.(Resetter); ok {
			r.Reset()
		}
	}
	close(errs)
	return <-errs
}

// drain frees what is still queued once every stage has stopped. It never
// waits: a stage that panicked may not have closed its channel.
func drain(aus chan media.AccessUnit, decoded chan decode.Frame, chans ...chan *mask.Frame) {
	for len(aus) > 0 {
		<-aus
	}
	for len(decoded) > 0 {
		if f, ok := <-decoded; ok {
			f.Close()
		}
	}
	for _, ch := range chans {
		for len(ch) > 0 {
			if f, ok := <-ch; ok {
				f.Close()
			}
		}
	}
}

// analytics tracks people across results, sends events, occupancy and state.
// It returns when results is closed.
func (c *Camera) analytics(ctx context.Context, results <-chan detect.Result, now func() time.Time) {
	c.mu.Lock() // Reconfigure may change Hold and HighScore
	tc := c.cfg.Track
	c.mu.Unlock()
	tc.Zones = c.cfg.Zones
	tr := track.New(tc)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var (
		size        image.Point
		lastActive  []string
		lastState   time.Time
		lastRefused string
		occ         = map[string]int{}
	)
	publishOcc := func(force bool) {
		cur := tr.Occupancy()
		for _, z := range c.cfg.Zones.Monitored() {
			if n := cur[z.ID]; force || n != occ[z.ID] {
				occ[z.ID] = n
				c.offer(events.Occupancy{Camera: c.cfg.Camera, Zone: z.ID, Count: n})
			}
		}
	}
	activeIDs := func(t time.Time) []string {
		var ids []string
		for _, z := range c.cfg.Zones.ActiveAt(t) {
			ids = append(ids, z.ID)
		}
		return ids
	}
	publishState := func(t time.Time) {
		c.offer(c.State(t, occ))
		lastState = time.Now()
	}
	publishOcc(true)
	publishState(now())
	lastActive = activeIDs(now())
	for {
		select {
		case r, ok := <-results:
			if !ok {
				publishState(now())
				return
			}
			size = r.Size
			if !r.Received.IsZero() {
				c.resultLatency.Observe(time.Since(r.Received))
			}
			dets := make([]track.Detection, len(r.Boxes))
			for i, b := range r.Boxes {
				dets[i] = track.Detection{Rect: b.Rect, Score: b.Score}
			}
			c.mu.Lock()
			if next := c.cfg.Track; next.Hold != tc.Hold || next.HighScore != tc.HighScore {
				tc.Hold, tc.HighScore = next.Hold, next.HighScore
				tr.Retune(tc)
			}
			c.mu.Unlock()
			tr.SetMinHeight(r.MinHeight)
			trans := tr.Update(dets, r.Size, r.At, r.Active)
			for _, tn := range trans {
				c.offer(c.event(tn, r))
			}
			c.events.Add(uint64(len(trans)))
			if c.cfg.OnResult != nil {
				c.cfg.OnResult(r, trans)
			}
			if len(trans) > 0 {
				publishOcc(false)
			}
		case <-tick.C:
			t := now()
			active := activeIDs(t)
			if !slices.Equal(active, lastActive) {
				// Signage changed: stop (or resume) counting there and say so now.
				lastActive = active
				if size != (image.Point{}) {
					for _, tn := range tr.Update(nil, size, t, active) {
						c.offer(c.event(tn, detect.Result{Size: size, At: t}))
						c.events.Add(1)
					}
				}
				publishOcc(false)
				publishState(t)
				for _, z := range c.cfg.Zones.Monitored() {
					c.log.Info("zone analysis changed", "zone", z.ID, "signage", z.Signage,
						"status", c.cfg.Zones.SignageStatus(z.ID, t), "active", slices.Contains(active, z.ID))
				}
			} else if r := c.refused(); r != lastRefused {
				// A stream refused (or accepted again) is said at once.
				lastRefused = r
				publishState(t)
			} else if time.Since(lastState) >= c.cfg.StateEvery {
				publishState(t)
			}
		case <-ctx.Done():
			// Keep draining so detect can finish; results closes once it has.
			for range results {
			}
			publishState(now())
			return
		}
	}
}

// refused is why the current run's decoder refuses the stream, or "".
func (c *Camera) refused() string {
	c.mu.Lock()
	st := c.stages
	c.mu.Unlock()
	if st == nil {
		return ""
	}
	return st.dec.Stats().Refused
}

func (c *Camera) offer(m events.Message) {
	if !c.cfg.Sink.Offer(m) {
		c.sinkFull.Log("topic", m.Topic("{prefix}"))
	}
}

func (c *Camera) event(tn track.Transition, r detect.Result) events.Event {
	sign, _ := c.cfg.Zones.SignFor(tn.Zone)
	ts := r.Received
	if c.cfg.Offline || ts.IsZero() {
		ts = tn.At
	}
	return events.Event{
		ID: events.NewID(), Type: tn.Type, Site: c.cfg.Site, Camera: c.cfg.Camera,
		Zone: tn.Zone, SignageID: sign.ID, Purpose: sign.Purpose, PurposeDetail: sign.PurposeDetail, Label: events.LabelPerson,
		TrackID: tn.TrackID, Score: tn.Score, Box: tn.Box, TS: ts, Occupancy: tn.Occupancy,
	}
}

// Reconfigure applies next's zones (privacy and monitored), signs,
// min_score, track_score and hold_seconds to this camera while it runs,
// without restarting any stage: ingest, decoder and tracker carry on, so
// tracks keep their ids, people already counted in an unchanged zone are
// not entered again, and occupancy stays. next must be the same camera (its
// source is not used); whatever else differs in it (source, detector kind,
// mask colour) needs a restart instead, which the caller decides.
//
// A change of privacy zones starts a new mask epoch: the zones are swapped
// under the epoch's write lock, so every frame decoded from then on is
// painted with the new zones, and every frame (and encoded unit, and
// snapshot) painted before is stale. Outputs and detection drop stale ones,
// and an output writing one when Reconfigure is called has finished before
// it returns: once it has returned, nothing painted with the old zones is
// published. It never fails; the error is for changes it may refuse later.
func (c *Camera) Reconfigure(next *Camera) error {
	privacy := !slices.EqualFunc(c.cfg.Zones.Privacy(), next.cfg.Zones.Privacy(), func(a, b zones.Zone) bool {
		return a.ID == b.ID && slices.Equal(a.Polygon, b.Polygon)
	})
	if privacy {
		epoch := c.epoch.Advance(zones.Fingerprint(next.cfg.Zones.Privacy()), func() { c.cfg.Zones.Replace(next.cfg.Zones) })
		c.log.Info("privacy zones changed in place: frames masked before are dropped", "mask_epoch", epoch,
			"privacy_zones", zones.Fingerprint(next.cfg.Zones.Privacy()))
	} else {
		c.cfg.Zones.Replace(next.cfg.Zones)
	}
	c.mu.Lock()
	c.cfg.Detect.MinScore = next.cfg.Detect.MinScore
	// The tracker picks these up before its next update (analytics).
	c.cfg.Track.Hold, c.cfg.Track.HighScore = next.cfg.Track.Hold, next.cfg.Track.HighScore
	st := c.stages
	c.mu.Unlock()
	if st != nil {
		st.detect.SetMinScore(next.cfg.Detect.MinScore)
	}
	c.log.Info("camera reconfigured in place", "monitored_zones", len(next.cfg.Zones.Monitored()),
		"privacy_zones", len(next.cfg.Zones.Privacy()), "min_score", next.cfg.Detect.MinScore,
		"track_score", next.cfg.Track.HighScore, "hold", next.cfg.Track.Hold)
	return nil
}

// MaskEpoch is the camera's current privacy-zone epoch: 1 at the start,
// one more for each privacy change applied in place and each run ended.
func (c *Camera) MaskEpoch() uint64 { return c.epoch.Current() }

// ID is the camera's id.
func (c *Camera) ID() string { return c.cfg.Camera }
