package detect

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// Result is the detection outcome for one frame. One is sent for every
// frame the stage receives, analysed or not, so the tracker can age tracks
// and close occupancy when zones stop being analysed.
type Result struct {
	Seq      uint64
	PTS      time.Duration
	Received time.Time
	Size     image.Point // the frame's size
	At       time.Time   // when signage was checked for this frame
	// Boxes are in full-frame pixel coordinates, within the frame but not
	// clipped to the analysis region: a person counts where their feet are
	// (the bottom centre of the box), so the box must keep its true bottom.
	Boxes []Box
	// Active holds the ids of the monitored zones analysed for this frame;
	// empty when nothing could be analysed (no valid signage, or active
	// zones wholly covered by privacy zones), and then Boxes is empty too.
	Active []string
	// MinHeight is the height, in frame pixels, of the smallest box the
	// detector can report in this frame (Placement.MinHeight); 0 when
	// nothing was analysed. A person smaller than that is not found
	// however plainly in view: the tracker holds those it lost there.
	MinHeight int
}

// Stats are the stage's counters since it was created.
type Stats struct {
	Frames     uint64        // frames received
	Analysed   uint64        // frames given to the detector
	Detections uint64        // boxes reported
	Errors     uint64        // frames dropped because detection failed
	TooSmall   uint64        // frames not analysed: the analysed area is smaller than the detector window
	Crops      uint64        // pictures given to the detector (with MotionCrops, several a frame or none)
	Pixels     uint64        // pixels of those pictures, after scaling: the detector's work
	StaleMask  uint64        // frames not analysed: a reload changed the privacy zones after they were masked
	MeanDetect time.Duration // mean time of one detector call (crop and scaling included)
	LastDetect time.Duration // time of the latest detector call
	// Pool counts this camera's requests to the shared detector pool
	// (zero without a pool).
	Pool PoolStats
}

// Stage runs person detection on the analysable part of each frame.
type Stage struct {
	cfg       Config
	det       Detector
	log       *slog.Logger
	closeOnce sync.Once

	window    image.Point
	grey      bool          // det's Input is grey: crops are luma, not BGR
	kind      string        // which calibration turns raw scores into confidences
	minScore  atomic.Uint64 // float64 bits; SetMinScore changes it while running
	lastSmall image.Point   // size of the last too-small crop logged
	regions   *regionFinder // with MotionCrops

	frames, analysed, detections, errs, small, stale atomic.Uint64
	crops, pixels                                    atomic.Uint64
	detectNs, lastNs                                 atomic.Int64
	client                                           atomic.Pointer[Client] // once Run has joined a pool
}

// New returns a detection stage and builds its detector (or takes
// cfg.Detector). Zero fields of cfg take their defaults.
func New(cfg Config) (*Stage, error) {
	if cfg.Zones == nil {
		return nil, errors.New("detect: no zone set given (build one with zones.NewSet)")
	}
	if cfg.Width < 64 {
		return nil, fmt.Errorf("detect: width %d is below 64 pixels, the smallest useful detector input (detect.width; configs fills in its default)", cfg.Width)
	}
	if !(cfg.MinScore >= 0 && cfg.MinScore <= 1) {
		return nil, fmt.Errorf("detect: min_score %v is outside 0..1 (it is a confidence, the same scale for every detector)", cfg.MinScore)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Live(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	det := cfg.Detector
	if det == nil {
		var err error
		if det, err = NewDetector(cfg); err != nil {
			return nil, err
		}
	}
	s := &Stage{cfg: cfg, det: det, log: cfg.Logger, window: windowOf(det), grey: det.Input() == InputGrey, kind: kindOf(det)}
	if cfg.MotionCrops {
		s.regions = newRegionFinder()
	}
	s.minScore.Store(math.Float64bits(cfg.MinScore))
	return s, nil
}

// SetMinScore changes the lowest confidence reported, from the next frame
// on: a reload of min_score needs no new detector. Values outside 0..1 are
// refused (false).
func (s *Stage) SetMinScore(v float64) bool {
	if !(v >= 0 && v <= 1) {
		return false
	}
	s.minScore.Store(math.Float64bits(v))
	return true
}

// Stats returns the counters.
func (s *Stage) Stats() Stats {
	st := Stats{
		Frames: s.frames.Load(), Analysed: s.analysed.Load(), Detections: s.detections.Load(),
		Errors: s.errs.Load(), TooSmall: s.small.Load(), StaleMask: s.stale.Load(), LastDetect: time.Duration(s.lastNs.Load()),
		Crops: s.crops.Load(), Pixels: s.pixels.Load(),
	}
	if st.Analysed > 0 {
		st.MeanDetect = time.Duration(s.detectNs.Load() / int64(st.Analysed))
	}
	if c := s.client.Load(); c != nil {
		st.Pool = c.Stats()
	}
	return st
}

// Close frees the detector. Run calls it on return; call it yourself only
// if Run is never started. It is safe to call more than once.
func (s *Stage) Close() error {
	var err error
	s.closeOnce.Do(func() {
		err = s.det.Close()
		if s.regions != nil {
			s.regions.close()
		}
	})
	return err
}

// Run detects people in each frame from in and sends a Result per frame to
// out until in is closed or ctx is done. It closes every frame it
// receives, closes out and the detector when it returns.
//
// Drop policy: none here. The motion gate in front keeps only the latest
// frame, and the tracker behind is cheap, so sends block (until ctx is done).
func (s *Stage) Run(ctx context.Context, in <-chan *mask.Frame, out chan<- Result) error {
	defer close(out)
	defer s.Close()
	failed := ratelog.New(s.log, slog.LevelError, "person detection failed; frame skipped")
	if s.cfg.Pool != nil {
		return s.runPooled(ctx, in, out, failed)
	}
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		res, ok := s.consume(f, failed)
		if ok && !flow.Send(ctx, out, res) {
			return nil
		}
	}
}

// consume detects people in f and closes it, for Run and the pool's
// workers alike; a failure is counted and logged (at a bounded rate: a
// failing detector fails every frame) and gives no Result. A stale frame
// (ErrStaleMask) is counted apart and not logged: it is a reload's normal
// effect.
func (s *Stage) consume(f *mask.Frame, failed *ratelog.Limiter) (Result, bool) {
	res, err := s.Process(f)
	f.Close()
	if errors.Is(err, ErrStaleMask) {
		s.stale.Add(1)
		return Result{}, false
	}
	if err != nil {
		s.errs.Add(1)
		failed.Log("seq", res.Seq, "err", err)
		return Result{}, false
	}
	return res, true
}

// ErrStaleMask is Process refusing a frame masked under privacy zones that a
// reload has since replaced: the zones it analyses are the new ones, and
// the picture is not.
var ErrStaleMask = errors.New("frame masked with replaced privacy zones (stale_mask)")

// Process detects people in f at the time cfg.Clock gives it. It does not close f. On
// error the Result must not be sent on: it would tell the tracker the zone
// is empty.
func (s *Stage) Process(f *mask.Frame) (Result, error) {
	s.frames.Add(1)
	t := s.cfg.Clock.At(f.PTS())
	res := Result{Seq: f.Seq(), PTS: f.PTS(), Received: f.Received(), Size: f.Size(), At: t}
	if f.Stale() {
		return res, fmt.Errorf("frame %d: %w", f.Seq(), ErrStaleMask)
	}
	active := s.cfg.Zones.ActiveAt(t)
	if len(active) == 0 {
		return res, nil
	}
	am := s.cfg.Zones.AnalysisMask(res.Size.X, res.Size.Y, t)
	p, ok := Plan(am, s.cfg.Width, s.cfg.Upscale)
	if !ok {
		return res, nil // active zones wholly under privacy zones: nothing to analyse
	}
	if p.Size.X < s.window.X || p.Size.Y < s.window.Y {
		// Nobody the detector could find fits in so small an area; it is
		// not analysed, like an area wholly under privacy zones.
		s.small.Add(1)
		if p.Size != s.lastSmall {
			s.lastSmall = p.Size
			s.log.Warn("analysed area smaller than the detector window; not analysed (enlarge the monitored zone or raise detect.width)",
				"area", fmt.Sprintf("%dx%d", p.Size.X, p.Size.Y), "window", fmt.Sprintf("%dx%d", s.window.X, s.window.Y))
		}
		return res, nil
	}
	start := time.Now()
	boxes, err := s.detect(f, am, p)
	d := time.Since(start)
	s.analysed.Add(1)
	s.detectNs.Add(int64(d))
	s.lastNs.Store(int64(d))
	if s.cfg.Observe != nil {
		s.cfg.Observe(d)
	}
	if err != nil {
		return res, fmt.Errorf("frame %d: %w", f.Seq(), err)
	}
	res.Active = zoneIDs(active)
	res.MinHeight = p.MinHeight(s.window)
	minScore := math.Float64frombits(s.minScore.Load())
	for _, b := range boxes {
		score := Confidence(s.kind, b.Score)
		// The raw value is the detector's own unit; only the confidence
		// leaves this stage.
		s.log.Debug("detection", "frame", f.Seq(), "kind", s.kind, "raw", b.Score, "score", score)
		if score < minScore {
			continue
		}
		r := b.Rect.Intersect(image.Rectangle{Max: res.Size})
		if r.Empty() {
			continue
		}
		res.Boxes = append(res.Boxes, Box{Rect: r, Score: score})
	}
	s.detections.Add(uint64(len(res.Boxes)))
	if s.regions != nil {
		rects := make([]image.Rectangle, len(res.Boxes))
		for i, b := range res.Boxes {
			rects[i] = b.Rect
		}
		s.regions.found(rects)
	}
	return res, nil
}

// detect runs the detector on the crops of f that p (the whole analysis
// area) or, with MotionCrops, the moving parts of it call for, and returns
// the boxes in frame pixels with their raw scores.
func (s *Stage) detect(f *mask.Frame, am *zones.Mask, p Placement) ([]Box, error) {
	places := []Placement{p}
	if s.regions != nil {
		// Crops keep the whole area's scale, so people are the size the
		// detector was tuned for; each is at least a window and a quarter.
		scale := float64(p.Size.X) / float64(p.Rect.Dx())
		minSize := image.Pt(int(float64(s.window.X)*1.25/scale+0.5), int(float64(s.window.Y)*1.25/scale+0.5))
		if rs, whole := s.regions.regions(f, p.Rect, minSize); !whole {
			places = places[:0]
			for _, r := range rs {
				sz := image.Pt(max(1, int(float64(r.Dx())*scale+0.5)), max(1, int(float64(r.Dy())*scale+0.5)))
				if sz.X < s.window.X || sz.Y < s.window.Y {
					continue // a sliver at the area's edge: nobody fits in it
				}
				places = append(places, Placement{Rect: r, Size: sz})
			}
		}
	}
	var out []Box
	for _, pl := range places {
		img, err := cropPlaced(f, am, pl, s.grey)
		if err != nil {
			return nil, err
		}
		s.crops.Add(1)
		s.pixels.Add(uint64(img.Cols() * img.Rows()))
		boxes, err := s.det.Detect(img)
		img.Close()
		if err != nil {
			return nil, err
		}
		for _, b := range boxes {
			out = append(out, Box{Rect: pl.ToFrame(b.Rect), Score: b.Score})
		}
	}
	return out, nil
}

func zoneIDs(zs []zones.Zone) []string {
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i] = z.ID
	}
	return ids
}

// runPooled hands each frame to the box's detector pool and sends the
// results its workers produce, in order (the pool runs one request per
// camera at a time). A frame the pool skips for a newer one gets no Result:
// the tracker predicts across the gap by timestamps.
func (s *Stage) runPooled(ctx context.Context, in <-chan *mask.Frame, out chan<- Result, failed *ratelog.Limiter) error {
	c, err := s.cfg.Pool.Join(s.cfg.Name, func(f *mask.Frame) {
		if res, ok := s.consume(f, failed); ok {
			flow.Send(ctx, out, res)
		}
	})
	if err != nil {
		return fmt.Errorf("detect: camera %s: %w", s.cfg.Name, err)
	}
	s.client.Store(c)
	// Leave before the detector and out are closed: a worker may be in
	// Process for this camera.
	defer c.Leave()
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		c.Submit(f)
	}
}
