// Package record writes a camera's masked, encoded stream to MP4 segments,
// <dir>/<camera>/<start time>.mp4, and keeps the folder within a byte and
// an age limit by deleting the oldest segments.
//
// It reads access units from the camera's encoder stage (through
// stages/encode's Fanout, beside the restream), so a recording holds exactly
// the masked pictures viewers see. Files are
// fragmented MP4 (a fragment per keyframe): on SIGTERM the current file is
// finished with its trailer, and even a process killed outright leaves a
// file playable up to its last fragment.
package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// QueueSize is how many access units may wait for the disk (about 8 s at
// 15 fps): the size of the recorder's queue in the Fanout, which drops and
// waits for the next keyframe when it is full.
const QueueSize = 120

// Config configures a Recorder.
type Config struct {
	// Camera is the camera id, the name of its folder. Required.
	Camera string
	// Dir holds one folder per camera. Required.
	Dir string
	// Segment is the length of one file; a new one starts at the first
	// keyframe after it. It defaults to 60 s.
	Segment time.Duration
	// MaxBytes caps the camera's folder; 0 means no cap.
	MaxBytes int64
	// MaxAge deletes segments older than this; 0 means no limit.
	MaxAge time.Duration
	// Now is the clock for file names and ages. It defaults to time.Now.
	Now func() time.Time
	// OnDelete, when set, is told of every segment retention deletes (for
	// the audit log); it runs on the recorder's goroutine.
	OnDelete func(path string, bytes int64, age time.Duration)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Origin, when set, gives the tags that name where a segment comes from
	// (TagConfigHash, TagRevision, TagSignage); it is called as each
	// segment starts, with the fingerprint of the privacy zones the
	// segment's pictures were masked with (TagPrivacyZones), so a reload or
	// a sign's expiry shows in the next one. TagCamera, TagPrivacyZones and
	// creation_time are always written.
	Origin func(privacyZones string) map[string]string
}

// Metadata tags of every segment (MP4 user data), read back by
// `edge verify --recording`.
const (
	TagCamera     = "edge_camera"
	TagConfigHash = "edge_config_sha256"
	TagRevision   = "edge_revision"
	TagSignage    = "edge_signage"
	// TagPrivacyZones is the fingerprint (zones.Fingerprint) of the
	// privacy zones every picture of the segment was masked with: a reload
	// that changes them ends the segment, so one segment never mixes two.
	TagPrivacyZones = "edge_privacy_zones"
)

// Stats are a Recorder's counters.
type Stats struct {
	Written  uint64 // access units written
	Dropped  uint64 // access units not written: before the first keyframe, or at a size change
	Segments uint64 // files finished
	Deleted  uint64 // files deleted by retention
	// StaleMask counts units not written because a reload changed the
	// privacy zones after they were masked (not in Dropped).
	StaleMask uint64
	// Failures counts segments a write or create error ended; each is
	// retried with a new segment after a pause.
	Failures uint64
}

// Recorder is one camera's recorder.
type Recorder struct {
	cfg Config
	dir string
	log *slog.Logger

	paused atomic.Bool // gated off: units are refused
	pause  chan struct{}

	written, dropped, segments, deleted, stale, failures atomic.Uint64
}

// New checks cfg and creates the camera's folder.
func New(cfg Config) (*Recorder, error) {
	if cfg.Camera == "" || strings.ContainsAny(cfg.Camera, `/\`) || cfg.Camera == "." || cfg.Camera == ".." {
		return nil, fmt.Errorf("record: camera id %q cannot name a folder", cfg.Camera)
	}
	if cfg.Dir == "" {
		return nil, errors.New("record: no directory given (set record.dir)")
	}
	if cfg.Segment <= 0 {
		cfg.Segment = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir := filepath.Join(cfg.Dir, cfg.Camera)
	for _, d := range []string{cfg.Dir, dir} {
		if err := privfile.MkdirAll(d); err != nil {
			return nil, fmt.Errorf("record: camera %s: %w (record.dir)", cfg.Camera, err)
		}
	}
	return &Recorder{cfg: cfg, dir: dir, log: cfg.Logger.With("camera", cfg.Camera), pause: make(chan struct{}, 1)}, nil
}

// Dir is the camera's folder.
func (r *Recorder) Dir() string { return r.dir }

// Pause stops recording: the current segment is finished and units are
// dropped unwritten until Resume. It does not wait.
func (r *Recorder) Pause() {
	r.paused.Store(true)
	select {
	case r.pause <- struct{}{}:
	default: // a pause is already pending
	}
}

// Resume accepts units again; the next segment starts at a keyframe.
func (r *Recorder) Resume() { r.paused.Store(false) }

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	return Stats{Written: r.written.Load(), Dropped: r.dropped.Load(), Segments: r.segments.Load(), Deleted: r.deleted.Load(), StaleMask: r.stale.Load(), Failures: r.failures.Load()}
}

// Run writes access units from in until in is closed or ctx is done, then
// writes what is still queued, finishes the current file and returns nil.
// A file that cannot be created or written (a full or failing disk) does not
// stop the recorder: the segment is finished, the failure counted
// (Stats.Failures) and logged with its reason, units are dropped for a
// pause (1 s, doubling to a minute while failures go on) and recording
// starts again with a new segment at the next keyframe. While paused,
// units are dropped unwritten.
func (r *Recorder) Run(ctx context.Context, in <-chan media.AccessUnit) error {
	w := &segmentWriter{r: r}
	r.retain()
	for {
		select {
		case au, ok := <-in:
			if !ok {
				w.finish()
				return nil
			}
			w.put(au)
		case <-r.pause:
			r.flush(w, in)
			w.finish()
			r.log.Info("recording paused: segment finished")
		case <-ctx.Done():
			r.flush(w, in)
			w.finish()
			return nil
		}
	}
}

// flush writes what is queued in in, without waiting for more.
func (r *Recorder) flush(w *segmentWriter, in <-chan media.AccessUnit) {
	for {
		select {
		case au, ok := <-in:
			if !ok {
				return
			}
			w.put(au)
		default:
			return
		}
	}
}

// Pauses after a failed write, before a new segment is tried.
const (
	firstRetry = time.Second
	maxRetry   = time.Minute
)

// put writes au; a failure finishes the segment and drops units until the
// retry pause is over (see Run).
func (w *segmentWriter) put(au media.AccessUnit) {
	r := w.r
	if !w.retryAt.IsZero() {
		if r.cfg.Now().Before(w.retryAt) {
			r.dropped.Add(1)
			return
		}
		w.retryAt = time.Time{}
		w.waitKey = true
	}
	err := w.write(au)
	if err == nil {
		if w.mx != nil {
			w.backoff = 0
		}
		return
	}
	w.finish()
	r.failures.Add(1)
	r.dropped.Add(1)
	w.backoff = min(max(2*w.backoff, firstRetry), maxRetry)
	w.retryAt = r.cfg.Now().Add(w.backoff)
	r.log.Error("recording failed; a new segment is tried after a pause", "err", err, "retry_in", w.backoff)
}

// segmentWriter holds the file being written.
type segmentWriter struct {
	r        *Recorder
	mx       *muxer
	start    time.Duration   // PTS of the file's first unit
	last     time.Duration   // PTS of the last unit written
	interval time.Duration   // between the last two units
	w, h     int             // picture size of the file being written
	mask     maskepoch.Stamp // privacy-zone epoch of the file being written
	waitKey  bool
	// After a failed write: when to try again, and the pause before that.
	retryAt time.Time
	backoff time.Duration
}

// write writes au into the current segment, holding its privacy-zone epoch
// meanwhile: a unit painted with zones a reload has replaced is dropped
// (counted StaleMask), and none is written once the reload has returned.
func (w *segmentWriter) write(au media.AccessUnit) error {
	r := w.r
	if r.paused.Load() {
		return nil // the segment is finished by Run; the next one starts at a keyframe
	}
	release, ok := au.Mask.Hold()
	if !ok {
		r.stale.Add(1)
		w.waitKey = true
		return nil
	}
	defer release()
	if w.mx != nil && !au.Mask.Same(w.mask) {
		// A segment says which zones masked it (TagPrivacyZones), so a
		// change of zones starts a new one; the encoder codes the first
		// picture of new zones as a keyframe.
		r.log.Info("recording segment cut: privacy zones changed", "from", w.mask.Zones(), "to", au.Mask.Zones())
		w.finish()
		if !au.Keyframe {
			w.waitKey = true
			r.dropped.Add(1)
			return nil
		}
	}
	if w.mx == nil || w.waitKey {
		if !au.Keyframe {
			r.dropped.Add(1)
			return nil
		}
		w.waitKey = false
	}
	if w.mx != nil && (au.Width != w.w || au.Height != w.h) {
		// An MP4 track has one size in its header: a new size needs a new
		// file, which can only start at a keyframe.
		r.log.Info("recording segment cut: picture size changed", "from", fmt.Sprintf("%dx%d", w.w, w.h), "to", fmt.Sprintf("%dx%d", au.Width, au.Height))
		w.finish()
		if !au.Keyframe {
			w.waitKey = true
			r.dropped.Add(1)
			return nil
		}
	}
	if au.Keyframe && w.mx != nil && au.PTS-w.start >= r.cfg.Segment {
		w.finish()
	}
	if w.mx == nil {
		if err := w.open(au); err != nil {
			return err
		}
	}
	if w.interval = au.PTS - w.last; w.interval <= 0 || au.PTS == w.start {
		w.interval = time.Second / 15
	}
	if err := w.mx.write(au.AnnexB, au.PTS-w.start, w.interval, au.Keyframe); err != nil {
		return err
	}
	w.last = au.PTS
	r.written.Add(1)
	return nil
}

func (w *segmentWriter) open(au media.AccessUnit) error {
	var params []byte
	for _, n := range au.NALUs {
		if t := h264.NALUType(n[0] & 0x1f); t == h264.NALUTypeSPS || t == h264.NALUTypePPS {
			params = append(append(params, 0, 0, 0, 1), n...)
		}
	}
	// Again for each segment: a folder removed meanwhile (by hand, by a
	// cleanup) comes back rather than failing every segment.
	if err := privfile.MkdirAll(w.r.dir); err != nil {
		return fmt.Errorf("record: camera %s: %w (record.dir)", w.r.cfg.Camera, err)
	}
	now := w.r.cfg.Now().UTC()
	path := filepath.Join(w.r.dir, now.Format("20060102T150405.000Z")+".mp4")
	for i := 0; i < 1000; i++ {
		// A segment cut (privacy zones changed) may start within the
		// millisecond the last one did: never write over it, and keep
		// name order the start order retention relies on.
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			break
		}
		now = now.Add(time.Millisecond)
		path = filepath.Join(w.r.dir, now.Format("20060102T150405.000Z")+".mp4")
	}
	meta := map[string]string{}
	if w.r.cfg.Origin != nil {
		maps.Copy(meta, w.r.cfg.Origin(au.Mask.Zones()))
	}
	meta[TagCamera] = w.r.cfg.Camera
	meta["creation_time"] = now.Format(time.RFC3339Nano)
	if z := au.Mask.Zones(); z != "" {
		meta[TagPrivacyZones] = z
	}
	mx, err := openMuxer(path, au.Width, au.Height, params, meta)
	if err != nil {
		return err
	}
	w.mx, w.start, w.last, w.w, w.h, w.mask = mx, au.PTS, au.PTS, au.Width, au.Height, au.Mask
	w.r.log.Debug("recording segment started", "path", path)
	return nil
}

func (w *segmentWriter) finish() {
	if w.mx == nil {
		return
	}
	path := w.mx.path
	if err := w.mx.close(); err != nil {
		w.r.log.Warn("recording segment not finished cleanly (still playable: fragmented MP4)", "err", err)
	}
	w.mx = nil
	w.r.segments.Add(1)
	w.r.retain()
	w.r.log.Debug("recording segment finished", "path", path)
}

// retain deletes segments older than MaxAge, then the oldest ones until the
// folder fits MaxBytes. The newest segment is never deleted, so a cap below
// one segment still leaves the latest recording.
func (r *Recorder) retain() {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.log.Warn("recording retention: cannot list folder", "err", err)
		return
	}
	type seg struct {
		path string
		size int64
		mod  time.Time
	}
	var segs []seg
	var total int64
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".mp4") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		segs = append(segs, seg{filepath.Join(r.dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	// Names are start times, so name order is age order.
	slices.SortFunc(segs, func(a, b seg) int { return strings.Compare(a.path, b.path) })
	now := r.cfg.Now()
	for i, s := range segs {
		old := r.cfg.MaxAge > 0 && now.Sub(s.mod) > r.cfg.MaxAge
		big := r.cfg.MaxBytes > 0 && total > r.cfg.MaxBytes
		if i == len(segs)-1 || (!old && !big) {
			continue
		}
		if err := os.Remove(s.path); err != nil {
			r.log.Warn("recording retention: cannot delete segment", "path", s.path, "err", err)
			continue
		}
		total -= s.size
		r.deleted.Add(1)
		r.log.Info("recording deleted by retention", "path", s.path, "too_old", old, "over_bytes", big)
		if r.cfg.OnDelete != nil {
			r.cfg.OnDelete(s.path, s.size, now.Sub(s.mod))
		}
	}
}
