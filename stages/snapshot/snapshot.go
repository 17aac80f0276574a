// Package snapshot makes masked JPEGs: one on every enter event (optionally
// cropped to the person's box) and one on request, published retained on
// {prefix}/{camera}/snapshot. Pictures are taken from the camera's snapshot
// output (Latest), which the pipeline offers every masked frame.
//
// Pictures come only from *mask.Frame values, so a snapshot cannot hold a
// private pixel. JPEG encoding runs on the stage's own goroutine behind a
// small queue: the event is passed on at once (with its snapshot reference
// already set) and never waits for the picture.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
)

// QueueSize is how many snapshots may wait for the encoder; more are dropped.
const QueueSize = 4

// Sink takes MQTT messages without blocking (pipeline.Sink).
type Sink interface {
	Offer(m events.Message) bool
}

// Config configures a Snapshotter.
type Config struct {
	// Camera is the camera id. Required.
	Camera string
	// TopicPrefix is the MQTT prefix, for the reference put in events.
	TopicPrefix string
	// Crop cuts enter-event snapshots to the person's box plus Margin.
	Crop bool
	// Margin is added on each side of the box, as a share of its width and
	// height. It defaults to 0.25.
	Margin float64
	// Quality is the JPEG quality, 1..100. It defaults to 85.
	Quality int
	// Frames is the camera's snapshot output, a pipeline output holding
	// its newest masked frame. Required.
	Frames *Latest
	// Sink receives events (passed on) and snapshots. Required.
	Sink Sink
	// Retain is how long the retained snapshot stays on the broker before it
	// is cleared; 0 keeps it until the next one. The one an earlier run left
	// is cleared at start, and the current one when the snapshotter pauses.
	Retain time.Duration
	// OnClear, when set, is told of every clearing (for the audit log):
	// how long the picture was shown and why it went.
	OnClear func(shown time.Duration, reason string)
	// Allowed, when set, is asked before a snapshot is taken and again
	// before it is published; false drops it, counted. It is the camera
	// sign's gate, which closes at the sign's expiry itself, before the
	// monitor's next check pauses the snapshotter.
	Allowed func() bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Reasons given to OnClear.
const (
	ClearRetention = "retention"
	ClearPaused    = "paused"
	ClearStart     = "left by an earlier run"
)

// Stats are a Snapshotter's counters.
type Stats struct {
	Published uint64 // snapshots handed to the sink
	Dropped   uint64 // snapshots not made: queue full or sink full
	Failed    uint64 // JPEG encoding failures
	// StaleMask counts snapshots not published because a reload changed
	// the privacy zones after their frame was masked.
	StaleMask uint64
}

type job struct {
	frame   *mask.Frame
	eventID string
	box     *[4]float64
}

// Snapshotter is one camera's snapshot stage.
type Snapshotter struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	q       chan job
	closed  bool
	paused  bool
	shownAt time.Time // when the retained snapshot was published; zero when none

	published, dropped, failed, stale atomic.Uint64
	notMade                           *ratelog.Limiter
}

// New checks cfg.
func New(cfg Config) (*Snapshotter, error) {
	switch {
	case cfg.Camera == "":
		return nil, errors.New("snapshot: camera id is empty")
	case cfg.Frames == nil:
		return nil, fmt.Errorf("snapshot: camera %s: no snapshot output (Frames)", cfg.Camera)
	case cfg.Sink == nil:
		return nil, fmt.Errorf("snapshot: camera %s: no sink", cfg.Camera)
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 0.25
	}
	if cfg.Quality <= 0 || cfg.Quality > 100 {
		cfg.Quality = 85
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("camera", cfg.Camera)
	return &Snapshotter{cfg: cfg, log: log, q: make(chan job, QueueSize), notMade: ratelog.New(log, slog.LevelWarn, "snapshot not made")}, nil
}

// Offer implements Sink: every message goes on to the configured sink; an
// enter event first gets its snapshot reference (id-based, so it is known
// before the picture exists) and a snapshot is queued.
func (s *Snapshotter) Offer(m events.Message) bool {
	if ev, ok := m.(events.Event); ok && ev.Type == events.TypeEnter && ev.Camera == s.cfg.Camera {
		var box *[4]float64
		if s.cfg.Crop {
			b := ev.Box
			box = &b
		}
		if s.enqueue(ev.ID, box) {
			ev.Snapshot = events.SnapshotRef(s.cfg.TopicPrefix, s.cfg.Camera, ev.ID)
			m = ev
		}
	}
	return s.cfg.Sink.Offer(m)
}

// allowed reports whether Config.Allowed lets a picture out now.
func (s *Snapshotter) allowed() bool { return s.cfg.Allowed == nil || s.cfg.Allowed() }

// Request queues a snapshot of the whole (masked) current frame, published
// without an event id. It reports whether one was queued.
func (s *Snapshotter) Request() bool { return s.enqueue("", nil) }

func (s *Snapshotter) enqueue(id string, box *[4]float64) bool {
	f := s.cfg.Frames.Frame()
	if f == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.paused || !s.allowed() {
		f.Close()
		return false
	}
	select {
	case s.q <- job{frame: f, eventID: id, box: box}:
		return true
	default:
		s.dropped.Add(1)
		f.Close()
		return false
	}
}

// Pause stops snapshots until Resume: events pass on without one, and
// queued pictures are dropped unpublished.
func (s *Snapshotter) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = true
	for done := false; !done; {
		select {
		case j := <-s.q:
			j.frame.Close()
		default:
			done = true
		}
	}
	if !s.shownAt.IsZero() {
		s.clear(ClearPaused)
	}
}

// clear removes the retained snapshot; call with mu held.
func (s *Snapshotter) clear(reason string) {
	shown := time.Duration(0)
	if !s.shownAt.IsZero() {
		shown = time.Since(s.shownAt)
	}
	s.shownAt = time.Time{}
	if !s.cfg.Sink.Offer(events.ClearSnapshot{Camera: s.cfg.Camera}) {
		s.log.Warn("retained snapshot not cleared: sink full", "reason", reason)
		return
	}
	if s.cfg.OnClear != nil {
		s.cfg.OnClear(shown, reason)
	}
}

// Resume makes snapshots again.
func (s *Snapshotter) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused = false
}

// Stats returns the counters.
func (s *Snapshotter) Stats() Stats {
	return Stats{Published: s.published.Load(), Dropped: s.dropped.Load(), Failed: s.failed.Load(), StaleMask: s.stale.Load()}
}

// Run encodes queued snapshots until ctx is done.
func (s *Snapshotter) Run(ctx context.Context) error {
	defer func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		for {
			select {
			case j := <-s.q:
				j.frame.Close()
			default:
				return
			}
		}
	}()
	expire := time.NewTimer(time.Hour)
	expire.Stop()
	defer expire.Stop()
	if s.cfg.Retain > 0 {
		s.mu.Lock()
		s.clear(ClearStart)
		s.mu.Unlock()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-expire.C:
			s.mu.Lock()
			if !s.shownAt.IsZero() && time.Since(s.shownAt) >= s.cfg.Retain {
				s.clear(ClearRetention)
			}
			s.mu.Unlock()
		case j := <-s.q:
			b, err := JPEG(j.frame, j.box, s.cfg.Margin, s.cfg.Quality)
			stamp := j.frame.Stamp()
			j.frame.Close()
			if err != nil {
				s.failed.Add(1)
				s.notMade.Log("event", j.eventID, "err", err)
				continue
			}
			// Published only while its privacy zones are in force: a reload
			// that changed them waits for this, or drops it.
			release, current := stamp.Hold()
			if !current {
				s.stale.Add(1)
				continue
			}
			s.mu.Lock()
			switch {
			case s.paused || !s.allowed():
				s.dropped.Add(1) // made before the pause, not to be shown after it
			case s.cfg.Sink.Offer(events.Snapshot{Camera: s.cfg.Camera, EventID: j.eventID, JPEG: b}):
				s.published.Add(1)
				s.shownAt = time.Now()
				if s.cfg.Retain > 0 {
					expire.Reset(s.cfg.Retain)
				}
			default:
				s.dropped.Add(1)
			}
			s.mu.Unlock()
			release()
		}
	}
}

// CropRect is the pixel rectangle of a normalised box (x, y, w, h) grown by
// margin of its size on each side and clipped to a w x h frame.
func CropRect(box [4]float64, margin float64, w, h int) image.Rectangle {
	mx, my := box[2]*margin, box[3]*margin
	r := image.Rect(
		int((box[0]-mx)*float64(w)), int((box[1]-my)*float64(h)),
		int((box[0]+box[2]+mx)*float64(w)+0.999), int((box[1]+box[3]+my)*float64(h)+0.999),
	)
	return r.Intersect(image.Rect(0, 0, w, h))
}

// JPEG encodes f, or the crop of box (normalised x, y, w, h; nil for the
// whole frame) with margin, at quality.
func JPEG(f *mask.Frame, box *[4]float64, margin float64, quality int) ([]byte, error) {
	var img gocv.Mat
	var err error
	if box == nil {
		img, err = f.BGR()
	} else {
		sz := f.Size()
		r := CropRect(*box, margin, sz.X, sz.Y)
		if r.Empty() {
			return nil, fmt.Errorf("box %v lies outside the frame", *box)
		}
		// Only the crop is converted to BGR.
		if img, err = f.CropBGR(r); err == nil {
			defer img.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("JPEG: %w", err)
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		return nil, fmt.Errorf("JPEG encode: %w", err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}
