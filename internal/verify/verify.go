package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// ErrInput marks a run that could not start: a bad config, an unknown
// camera, an unreadable video. Commands map it to exit code 2.
var ErrInput = errors.New("verify: bad input")

// Defaults for Config.
const (
	DefaultSamples = 4
	// MinZonePixels is the fewest pixels a privacy zone must have at a
	// checked frame size for its verdict to be more than INCONCLUSIVE.
	MinZonePixels = 64
	// sampleQuality is the JPEG quality of sample frames.
	sampleQuality = 85
	// maxLeakFrames is how many leaking frames the report lists in detail.
	maxLeakFrames = 10
	// maxViolations is how many detection/event violations it lists.
	maxViolations = 50
)

// Config says what to verify.
type Config struct {
	// ConfigPath is the edge config file; its SHA-256 goes into the report.
	ConfigPath string
	// Camera is the id of the camera in the config whose zones apply.
	Camera string
	// Video is run through the production pipeline (every check).
	Video string
	// Recording is decoded and leak-checked only. Exactly one of Video and
	// Recording must be set.
	Recording string
	// Start is the wall-clock time of the first frame: signage is judged at
	// Start plus each frame's timestamp. It defaults to now.
	Start time.Time
	// Samples is how many masked frames the report shows. It defaults to
	// DefaultSamples; a negative number shows none.
	Samples int
	// Version is the tool version written into the report.
	Version string
	// Truth, when set, is a ground-truth file (internal/groundtruth): the
	// run's events are scored against it and the figures go into the
	// report (Accuracy). Pipeline mode only.
	Truth string
	// Detections, when set, is a file the run's detection results are
	// written to (DetectionLog), for re-scoring tracker settings with
	// Replay without running the detector again. Pipeline mode only.
	Detections string
	// MotionCrops detects as live cameras do, on the crops around motion
	// and the people found last, instead of the whole analysis area of
	// every frame (pipeline.CameraConfig.MotionCrops). Pipeline mode only.
	MotionCrops bool
	// Progress, when set, is called after each checked frame with the count
	// so far and the total expected (0 when unknown).
	Progress func(done, total int)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Run verifies cfg's video and returns the report. An error means no
// verdict could be reached (errors.Is(err, ErrInput) for bad input); a
// leak or an unsigned detection is not an error but a FAIL verdict.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	startSource := "given"
	if cfg.Start.IsZero() {
		cfg.Start, startSource = time.Now().UTC(), "the time verify ran (no start given)"
	}
	if cfg.Samples == 0 {
		cfg.Samples = DefaultSamples
	}
	if cfg.Detections != "" && cfg.Video == "" {
		return nil, fmt.Errorf("%w: --detections logs a run of --video through the pipeline; a recording has no detections", ErrInput)
	}
	if cfg.MotionCrops && cfg.Video == "" {
		return nil, fmt.Errorf("%w: --motion-crops chooses how a run of --video through the pipeline detects; a recording is not detected on", ErrInput)
	}
	if (cfg.Video == "") == (cfg.Recording == "") {
		return nil, fmt.Errorf("%w: give exactly one of a video (run through the pipeline) and a recording (check only)", ErrInput)
	}
	conf, err := configs.Load(cfg.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	var truth *groundtruth.Truth
	if cfg.Truth != "" {
		if cfg.Recording != "" {
			return nil, fmt.Errorf("%w: --truth scores a run of --video through the pipeline; a recording has no events", ErrInput)
		}
		if truth, err = groundtruth.Load(cfg.Truth); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		if truth.Camera != "" && truth.Camera != cfg.Camera {
			return nil, fmt.Errorf("%w: ground truth %s was labelled for camera %q, not %q", ErrInput, cfg.Truth, truth.Camera, cfg.Camera)
		}
	}
	cam, ok := conf.Camera(cfg.Camera)
	if !ok {
		var ids []string
		for _, c := range conf.Cameras {
			ids = append(ids, c.ID)
		}
		return nil, fmt.Errorf("%w: camera %q is not in %s (cameras there: %v)", ErrInput, cfg.Camera, cfg.ConfigPath, ids)
	}
	cc, err := pipeline.FromConfig(conf, cam)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	video, mode := cfg.Video, ModePipeline
	if cfg.Recording != "" {
		video, mode = cfg.Recording, ModeRecording
	}
	rep := &Report{
		Tool: "edge verify", Version: cfg.Version, Build: CurrentBuild(), Mode: mode, GeneratedAt: time.Now().UTC(),
		Camera: cam.ID, Site: conf.Site, Start: cfg.Start, StartSource: startSource,
		Check: LeakRule{Fill: fillRGB(cc.MaskColor)},
		audit: conf.Audit,
	}
	if mode == ModePipeline {
		rep.Detection = DetectWholeArea
		if cfg.MotionCrops {
			rep.Detection = DetectMotionCrops
		}
	}
	if rep.Config, err = hashFile(cfg.ConfigPath); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	if rep.Video, err = hashFile(video); err != nil {
		return nil, fmt.Errorf("%w: video: %w", ErrInput, err)
	}
	// A demux pass first: it proves the file readable before any stage
	// starts, and its count drives the progress bar and sample choice.
	info, err := mediafile.Probe(video)
	if err != nil {
		return nil, fmt.Errorf("%w: video %s: %w", ErrInput, video, err)
	}
	if len(info.Video) == 0 {
		return nil, fmt.Errorf("%w: video %s has no video stream", ErrInput, video)
	}
	tracks := info.Video
	if mode == ModePipeline {
		// The test video is the inspector's input: its default track is what
		// a camera would send. A recording is the output: every track counts.
		tracks = nil
		for _, st := range info.Video {
			if st.Default || tracks == nil {
				tracks = []mediafile.Stream{st}
			}
		}
	}
	total := 0
	for _, st := range tracks {
		n, err := countAccessUnits(ctx, video, st.Index)
		tr := Track{Index: st.Index, Codec: st.Codec, Width: st.Width, Height: st.Height, Default: st.Default, AccessUnits: n}
		if err != nil {
			if mode == ModePipeline || len(tracks) == 1 {
				return nil, fmt.Errorf("%w: video %s: %w (is it an H.264/H.265 file?)", ErrInput, video, err)
			}
			tr.Error = err.Error()
		}
		total += n
		rep.Tracks = append(rep.Tracks, tr)
	}
	rep.AccessUnits = total
	if mode == ModeRecording {
		rep.Origin = originOf(info, rep.Config.SHA256, cam.PrivacyFingerprint())
	}

	c := newChecker(cfg, cc, cam, rep, total)
	defer c.close()
	began := time.Now()
	switch mode {
	case ModePipeline:
		err = c.runPipeline(ctx, cc, video)
	default:
		for i := range rep.Tracks {
			if rep.Tracks[i].Error != "" {
				continue
			}
			if err = c.runRecording(ctx, video, &rep.Tracks[i]); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	rep.ElapsedSeconds = time.Since(began).Seconds()
	if rep.ElapsedSeconds > 0 {
		rep.ProcessingFPS = float64(rep.FramesChecked) / rep.ElapsedSeconds
	}
	c.finish()
	if truth != nil {
		rep.Accuracy = scoreRun(cfg.Truth, truth, rep.Events)
	}
	if cfg.Detections != "" {
		l := &DetectionLog{Video: video, Camera: cam.ID, FPS: cam.Detect.FPS, Width: cam.Detect.Width, Upscale: cam.Detect.Upscale,
			PersonHeight: cam.Detect.PersonHeight, MinScore: cam.Detect.MinScore, MotionCrops: cfg.MotionCrops, Results: c.logged}
		if err := WriteDetections(cfg.Detections, l); err != nil {
			return nil, err
		}
	}
	if rep.images, err = c.Samples(sampleQuality); err != nil {
		return nil, err
	}
	return rep, nil
}

// PrivacyPolygons returns the camera's privacy polygons as the independent
// checker takes them, straight from the file's numbers.
func PrivacyPolygons(cam *configs.Camera) []privacycheck.Polygon {
	var out []privacycheck.Polygon
	for _, z := range cam.Zones {
		if zones.Kind(z.Kind) != zones.Privacy {
			continue
		}
		p := make(privacycheck.Polygon, 0, len(z.Polygon))
		for _, v := range z.Polygon {
			if len(v) == 2 {
				p = append(p, [2]float64{v[0], v[1]})
			}
		}
		out = append(out, p)
	}
	return out
}

func fillRGB(bgr [3]uint8) [3]int { return [3]int{int(bgr[2]), int(bgr[1]), int(bgr[0])} }

func hashFile(path string) (FileRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileRef{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileRef{}, fmt.Errorf("read %s: %w", path, err)
	}
	return FileRef{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

func countAccessUnits(ctx context.Context, path string, stream int) (int, error) {
	n := 0
	err := mediafile.ReadStream(ctx, path, stream, func(media.AccessUnit) error { n++; return nil })
	if err == nil && n == 0 {
		err = errors.New("no video access units")
	}
	return n, err
}

// checker holds the state of one run; its methods are called from the
// pipeline's goroutines, so everything goes through mu.
type checker struct {
	cfg   Config
	rep   *Report
	set   *zones.Set
	fill  [3]uint8
	shown [3]uint8 // fill as a masked frame shows it in BGR (see mask.ShownFill)
	polys []privacycheck.Polygon
	cache *privacycheck.Cache
	geom  map[image.Point]*privacycheck.Geometry
	total int

	mu         sync.Mutex
	frames     int
	track      *Track // the recording track being checked, nil in pipeline mode
	prev       []byte // previous frame of this track (temporal test)
	sampleAt   map[uint64]bool
	samples    []*sample
	leakSample bool                 // a leaking frame is kept as a sample (leak map)
	seqAt      map[time.Time]uint64 // result time -> frame, to place events
	zone       map[string]*ZoneStats
	privacy    []*ZoneStats // in polygon order
	lastStatus map[string]zones.SignStatus
	sizes      map[image.Point]int
	lastState  *events.State
	logged     []LoggedResult // with Config.Detections
}

// sample is a masked frame kept for the report, with the boxes detected on it.
type sample struct {
	seq   uint64
	track int
	pts   time.Duration
	mat   gocv.Mat // our own copy
	boxes []image.Rectangle
	leak  []int32 // frame offsets of leaked pixels, shown as a leak map
}

func newChecker(cfg Config, cc pipeline.CameraConfig, cam *configs.Camera, rep *Report, total int) *checker {
	polys := PrivacyPolygons(cam)
	c := &checker{
		cfg: cfg, rep: rep, set: cc.Zones, fill: cc.MaskColor, polys: polys,
		cache: privacycheck.NewCache(polys), geom: map[image.Point]*privacycheck.Geometry{}, total: total,
		sampleAt: map[uint64]bool{}, seqAt: map[time.Time]uint64{}, zone: map[string]*ZoneStats{},
		lastStatus: map[string]zones.SignStatus{}, sizes: map[image.Point]int{},
	}
	// Should the 2x2 conversion fail, the configured colour is demanded
	// exactly: stricter, never looser.
	c.shown = cc.MaskColor
	if shown, err := mask.ShownFill(cc.MaskColor); err == nil {
		c.shown = shown
	}
	perTrack := total
	if n := len(rep.Tracks); n > 1 {
		perTrack = total / n
	}
	for i := 0; i < cfg.Samples; i++ {
		c.sampleAt[uint64((2*i+1)*perTrack/(2*cfg.Samples))] = true
	}
	for _, z := range cam.Zones {
		zs := &ZoneStats{ID: z.ID, Kind: z.Kind}
		for _, v := range z.Polygon {
			if len(v) == 2 {
				zs.Polygon = append(zs.Polygon, [2]float64{v[0], v[1]})
			}
		}
		if zones.Kind(z.Kind) == zones.Monitored {
			zs.Signage = z.Signage
			zs.StatusAtStart = string(cc.Zones.SignageStatus(z.ID, cfg.Start))
			if s, ok := cc.Zones.SignFor(z.ID); ok {
				zs.Purpose = s.Purpose
				if !s.ExpiresAt.IsZero() {
					e := s.ExpiresAt
					zs.SignExpires = &e
				}
			}
		} else {
			zs.Privacy = &PrivacyCheck{Fill: fillRGB(cc.MaskColor), Pixels: map[string]int{}, Core: map[string]int{}}
			c.privacy = append(c.privacy, zs)
		}
		rep.Zones = append(rep.Zones, zs)
		c.zone[z.ID] = zs
	}
	return c
}

func (c *checker) close() {
	for _, s := range c.samples {
		s.mat.Close()
	}
	c.samples = nil
}

// geometry returns the privacy zones rasterised at w x h, recording each
// zone's pixel count at that size.
func (c *checker) geometry(w, h int) *privacycheck.Geometry {
	k := image.Pt(w, h)
	if g, ok := c.geom[k]; ok {
		return g
	}
	g := privacycheck.NewGeometry(c.polys, w, h)
	c.geom[k] = g
	size := fmt.Sprintf("%dx%d", w, h)
	for i, zs := range c.privacy {
		zs.Privacy.Pixels[size] = len(g.Zones[i].Pixels.Idx)
		zs.Privacy.Core[size] = g.Zones[i].Core
	}
	return g
}

// checkFrame leak-checks one picture (BGR) and keeps a copy if it is a sample.
func (c *checker) checkFrame(seq uint64, pts time.Duration, m gocv.Mat) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, h := m.Cols(), m.Rows()
	lf := LeakFrame{Frame: seq, PTSSeconds: pts.Seconds(), Width: w, Height: h, First: [2]int{-1, -1}}
	if c.track != nil {
		lf.Track = c.track.Index
	}
	data, err := m.DataPtrUint8()
	if err != nil || !m.IsContinuous() || m.Type() != gocv.MatTypeCV8UC3 {
		// Nothing the decoder hands out looks like this; count it as a leak
		// rather than skip it, since an unchecked frame proves nothing.
		lf.Detail = "frame not a continuous 8-bit BGR picture; could not be checked"
		c.leak(lf)
		return nil
	}
	g := c.geometry(w, h)
	if c.prev != nil && len(c.prev) != len(data) {
		c.prev = nil // a size change: no temporal comparison across it
	}
	var mask []int32
	for i, zs := range c.privacy {
		pc := zs.Privacy
		var leaked, checked int
		first := image.Pt(-1, -1)
		if c.track == nil {
			// Pipeline frames come straight from the mask stage: exact.
			res, err := privacycheck.Check(data, g.Zones[i].Pixels, c.shown, 0)
			if err != nil {
				return err
			}
			leaked, checked, first = res.Leaked, res.Checked, res.First
			if leaked > 0 {
				mask = append(mask, exactLeaks(data, g.Zones[i].Pixels, c.shown)...)
			}
		} else {
			res, err := g.Content(i, data, c.prev, c.fill)
			if err != nil {
				return err
			}
			leaked, checked, first = res.Leaked, res.Checked, res.First
			mask = append(mask, res.Mask...)
			pc.MaxNoise = max(pc.MaxNoise, res.Noise)
			pc.MaxDeviation = max(pc.MaxDeviation, res.MaxDeviation)
			if !res.Exact {
				pc.Lossy = true
			}
			pc.SpatialPixels += int64(res.Spatial)
			pc.TemporalPixels += int64(res.Temporal)
			pc.HardPixels += int64(res.Hard)
		}
		pc.FramesChecked++
		pc.PixelsChecked += int64(checked)
		if checked < MinZonePixels {
			pc.FramesTooSmall++
		}
		if leaked > 0 {
			pc.FramesLeaked++
			pc.LeakedPixels += int64(leaked)
			if lf.Pixels == 0 {
				lf.First = [2]int{first.X, first.Y}
			}
			lf.Pixels += leaked
			lf.Zones = append(lf.Zones, zs.ID)
		}
		lf.Checked += checked
	}
	if c.track != nil {
		c.prev = slices.Clone(data)
		c.track.FramesChecked++
	}
	c.frames++
	c.rep.FramesChecked++
	c.rep.PrivacyPixelsChecked += int64(lf.Checked)
	c.rep.LeakSeries = append(c.rep.LeakSeries, lf.Pixels)
	c.sizes[image.Pt(w, h)]++
	c.rep.DurationSeconds = max(c.rep.DurationSeconds, pts.Seconds())
	if lf.Pixels > 0 {
		c.leak(lf)
	}
	if c.track == nil {
		t := c.cfg.Start.Add(pts)
		for _, z := range c.rep.Zones {
			if zones.Kind(z.Kind) != zones.Monitored {
				continue
			}
			st := c.set.SignageStatus(z.ID, t)
			if prev, ok := c.lastStatus[z.ID]; !ok || prev != st {
				c.lastStatus[z.ID] = st
				z.Status = append(z.Status, StatusChange{At: t, Frame: seq, Status: string(st)})
			}
		}
	}
	switch {
	case lf.Pixels > 0 && !c.leakSample:
		c.leakSample = true
		c.samples = append(c.samples, &sample{seq: seq, track: lf.Track, pts: pts, mat: m.Clone(), leak: mask})
	case c.sampleAt[seq]:
		c.samples = append(c.samples, &sample{seq: seq, track: lf.Track, pts: pts, mat: m.Clone(), leak: mask})
	}
	if c.cfg.Progress != nil {
		c.cfg.Progress(c.frames, c.total)
	}
	return nil
}

// exactLeaks lists the pixels of px that differ from fill.
func exactLeaks(bgr []byte, px privacycheck.Pixels, fill [3]uint8) []int32 {
	var out []int32
	for _, i := range px.Idx {
		o := int(i) * 3
		if bgr[o] != fill[0] || bgr[o+1] != fill[1] || bgr[o+2] != fill[2] {
			out = append(out, i)
		}
	}
	return out
}

func (c *checker) leak(l LeakFrame) {
	c.rep.FramesLeaked++
	c.rep.LeakedPixels += int64(l.Pixels)
	if len(c.rep.Leaks) < maxLeakFrames {
		c.rep.Leaks = append(c.rep.Leaks, l)
	}
}

func (c *checker) violate(v Violation) {
	c.rep.ViolationCount++
	if len(c.rep.Violations) < maxViolations {
		c.rep.Violations = append(c.rep.Violations, v)
	}
}

// result checks one detection result: it may only name zones active at its
// time, and every box's feet must stand in one of them.
func (c *checker) result(r detect.Result, _ []track.Transition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seqAt[r.At] = r.Seq
	if c.cfg.Detections != "" {
		c.logged = append(c.logged, logResult(r, c.cfg.Start))
	}
	// The pipeline offers a result's events before it reports the result.
	for i := len(c.rep.Events) - 1; i >= 0 && c.rep.Events[i].Frame < 0; i-- {
		if c.rep.Events[i].At.Equal(r.At) {
			c.rep.Events[i].Frame = int64(r.Seq)
		}
	}
	if len(r.Active) > 0 {
		c.rep.FramesAnalysed++
	}
	valid := map[string]bool{}
	for _, z := range c.set.ActiveAt(r.At) {
		valid[z.ID] = true
	}
	for _, id := range r.Active {
		if !valid[id] {
			c.violate(Violation{Kind: "unsigned-analysis", Frame: r.Seq, At: r.At, Zone: id,
				Detail: fmt.Sprintf("zone %s was analysed while its signage was %s", id, c.set.SignageStatus(id, r.At))})
		}
	}
	if len(r.Active) == 0 && len(r.Boxes) > 0 {
		c.violate(Violation{Kind: "unsigned-detection", Frame: r.Seq, At: r.At,
			Detail: fmt.Sprintf("%d detections on a frame where no zone was active", len(r.Boxes))})
	}
	for _, b := range r.Boxes {
		c.rep.Detections++
		feet := zones.Point{
			X: clamp01((float64(b.Rect.Min.X+b.Rect.Max.X) / 2) / float64(r.Size.X)),
			Y: clamp01(float64(b.Rect.Max.Y) / float64(r.Size.Y)),
		}
		ids := c.set.ZonesAt(feet, r.At)
		if len(ids) == 0 && c.besideZone(feet, b.Rect, r) {
			// The detector saw only signed pixels (the rest of its crop is
			// grey), but the box's feet fall just outside the zone's edge:
			// nobody is counted and no event can name it.
			c.rep.DetectionsBeside++
			continue
		}
		if len(ids) == 0 {
			c.violate(Violation{Kind: "unsigned-detection", Frame: r.Seq, At: r.At, Zone: c.whereIs(feet),
				Detail: fmt.Sprintf("person detected at (%.3f, %.3f), %s", feet.X, feet.Y, c.describe(feet, r.At))})
			continue
		}
		for _, id := range ids {
			c.zone[id].Detections++
		}
	}
	for _, s := range c.samples {
		if s.seq == r.Seq {
			for _, b := range r.Boxes {
				s.boxes = append(s.boxes, b.Rect)
			}
		}
	}
}

// besideZone reports whether a detection whose feet are in no active zone is
// still harmless: the feet lie in no zone at all (neither privacy nor an
// unsigned monitored one) and the box overlaps the crop the detector was
// given, the bounds of the analysis region (boxes are not clipped to it, so
// a person above or beside a zone may reach past it).
func (c *checker) besideZone(feet zones.Point, box image.Rectangle, r detect.Result) bool {
	if c.whereIs(feet) != "" {
		return false
	}
	x0, y0, x1, y1 := c.set.AnalysisMask(r.Size.X, r.Size.Y, r.At).Bounds()
	return box.Overlaps(image.Rect(x0, y0, x1, y1))
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// whereIs names the first zone of any kind holding pt, or "".
func (c *checker) whereIs(pt zones.Point) string {
	for _, z := range c.rep.Zones {
		if zz := c.zoneByID(z.ID); zz != nil && zz.Polygon.Contains(pt) {
			return z.ID
		}
	}
	return ""
}

func (c *checker) zoneByID(id string) *zones.Zone {
	for _, z := range append(c.set.Privacy(), c.set.Monitored()...) {
		if z.ID == id {
			return &z
		}
	}
	return nil
}

func (c *checker) describe(pt zones.Point, t time.Time) string {
	id := c.whereIs(pt)
	if id == "" {
		return "outside every zone"
	}
	z := c.zoneByID(id)
	if z.Kind == zones.Privacy {
		return "in privacy zone " + id
	}
	return fmt.Sprintf("in monitored zone %s whose signage was %s", id, c.set.SignageStatus(id, t))
}

// Offer is the pipeline's sink: it keeps what would go to MQTT and checks
// every event.
func (c *checker) Offer(m events.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m := m.(type) {
	case events.Event:
		frame := int64(-1)
		if s, ok := c.seqAt[m.TS]; ok {
			frame = int64(s)
		}
		ev := Event{Frame: frame, At: m.TS, Seconds: m.TS.Sub(c.cfg.Start).Seconds(), Type: m.Type, Zone: m.Zone,
			SignageID: m.SignageID, Purpose: m.Purpose, TrackID: m.TrackID, Occupancy: m.Occupancy, Score: m.Score, Box: m.Box}
		c.rep.Events = append(c.rep.Events, ev)
		zs := c.zone[m.Zone]
		switch {
		case zs == nil || zones.Kind(zs.Kind) != zones.Monitored:
			c.violate(Violation{Kind: "unsigned-event", Frame: uint64(max(frame, 0)), At: m.TS, Zone: m.Zone,
				Detail: fmt.Sprintf("%s event names %q, which is not a monitored zone", m.Type, m.Zone)})
		case c.set.SignageStatus(m.Zone, m.TS) != zones.SignValid:
			c.violate(Violation{Kind: "unsigned-event", Frame: uint64(max(frame, 0)), At: m.TS, Zone: m.Zone,
				Detail: fmt.Sprintf("%s event in zone %s while its signage was %s", m.Type, m.Zone, c.set.SignageStatus(m.Zone, m.TS))})
		case m.SignageID != zs.Signage:
			c.violate(Violation{Kind: "unsigned-event", Frame: uint64(max(frame, 0)), At: m.TS, Zone: m.Zone,
				Detail: fmt.Sprintf("%s event carries sign %q, zone %s is signed by %q", m.Type, m.SignageID, m.Zone, zs.Signage)})
		}
		if zs != nil {
			switch m.Type {
			case events.TypeEnter:
				zs.Enters++
			case events.TypeExit:
				zs.Exits++
			}
			zs.MaxOccupancy = max(zs.MaxOccupancy, m.Occupancy)
		}
	case events.Occupancy:
		if zs := c.zone[m.Zone]; zs != nil {
			zs.MaxOccupancy = max(zs.MaxOccupancy, m.Count)
		}
	case events.State:
		c.lastState = &m
	}
	return true
}

// runPipeline runs the video through the production stages.
func (c *checker) runPipeline(ctx context.Context, cc pipeline.CameraConfig, video string) error {
	cc.Source = pipeline.FileSource{Path: video}
	cc.Offline, cc.Start, cc.MotionCrops = true, c.cfg.Start, c.cfg.MotionCrops
	cc.Sink = c
	cc.Logger = c.cfg.Logger
	var checkErr error
	cc.OnMasked = func(f *mask.Frame) {
		bgr, err := f.BGR()
		if err == nil {
			err = c.checkFrame(f.Seq(), f.PTS(), bgr)
		}
		if err != nil && checkErr == nil {
			checkErr = err
		}
	}
	cc.OnResult = c.result
	cam, err := pipeline.NewCamera(cc)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInput, err)
	}
	if err := cam.Run(ctx); err != nil {
		return fmt.Errorf("verify %s: %w", video, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("verify %s: interrupted: %w", video, err)
	}
	if checkErr != nil {
		return checkErr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.lastState; s != nil {
		c.rep.FramesDecoded = int(s.FramesDecoded)
		c.rep.DecodeErrors = int(s.Drops["decode_errors"])
		c.rep.MaskFailed = int(s.Drops["mask_failed"])
	}
	return nil
}

// runRecording decodes one video track of a recording and checks every
// frame; no stage but decode touches it. A read error part-way is not an
// input error: what was read is judged, and the verdict can be no better
// than INCONCLUSIVE.
func (c *checker) runRecording(ctx context.Context, video string, tr *Track) error {
	// Native: a recording that is not 4:2:0 is judged on its own colour
	// samples; reduced to 4:2:0, colour that cancels out within 2x2 blocks
	// would vanish before the check (TestRecordingColourHiddenIn444).
	dec, err := decode.New(decode.Config{Logger: c.cfg.Logger, Native: true})
	if err != nil {
		return err
	}
	defer dec.Close()
	c.mu.Lock()
	c.track, c.prev = tr, nil
	c.mu.Unlock()
	check := func(frames []decode.Frame) error {
		var err error
		for _, f := range frames {
			if err == nil {
				c.rep.FramesDecoded++
				tr.FramesDecoded++
				if f.Native.Ptr() != nil {
					err = c.checkFrame(f.Seq, f.PTS, f.Native)
				} else {
					var bgr gocv.Mat
					if bgr, err = f.Pic.BGR(); err == nil {
						err = c.checkFrame(f.Seq, f.PTS, bgr)
						bgr.Close()
					}
				}
			}
			f.Close()
		}
		return err
	}
	var checkErr error
	err = mediafile.ReadStream(ctx, video, tr.Index, func(au media.AccessUnit) error {
		frames, derr := dec.DecodeAU(au)
		if derr != nil {
			c.rep.DecodeErrors++
		}
		if cerr := check(frames); cerr != nil {
			checkErr = cerr
			return cerr
		}
		return nil
	})
	if checkErr != nil {
		return checkErr
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("verify recording %s: interrupted: %w", video, cerr)
	}
	if err != nil {
		tr.Error = err.Error()
	}
	frames, ferr := dec.Flush()
	if cerr := check(frames); cerr != nil {
		return cerr
	}
	if ferr != nil {
		c.rep.DecodeErrors++
	}
	return nil
}

// finish computes the per-zone verdicts and the run's verdict: FAIL on any
// leak or violation, else INCONCLUSIVE when anything was not fully checked,
// else PASS.
func (c *checker) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rep
	for p, n := range c.sizes {
		r.Sizes = append(r.Sizes, FrameSize{Width: p.X, Height: p.Y, Frames: n})
	}
	slices.SortFunc(r.Sizes, func(a, b FrameSize) int { return b.Frames - a.Frames })
	var inconclusive []string
	for _, zs := range c.privacy {
		pc := zs.Privacy
		switch {
		case pc.FramesLeaked > 0:
			pc.Verdict = Fail
			pc.Reason = fmt.Sprintf("%d of %d frames show picture in the zone (%d pixels)", pc.FramesLeaked, pc.FramesChecked, pc.LeakedPixels)
		case pc.FramesChecked == 0:
			pc.Verdict = Inconclusive
			pc.Reason = "no frame was checked"
		case pc.FramesTooSmall > 0:
			pc.Verdict = Inconclusive
			pc.Reason = fmt.Sprintf("on %d frames the zone covers fewer than %d pixels: too few to judge", pc.FramesTooSmall, MinZonePixels)
		case c.rep.Mode == ModeRecording && coreless(pc):
			pc.Verdict = Inconclusive
			pc.Reason = fmt.Sprintf("the zone is nowhere %d px deep at %s: codec ringing and a faint picture cannot be told apart, so a semi-opaque fill could pass", privacycheck.CoreDepth*2+1, coreSizes(pc))
		default:
			pc.Verdict = Pass
		}
		if pc.Verdict == Inconclusive {
			inconclusive = append(inconclusive, fmt.Sprintf("privacy zone %s: %s", zs.ID, pc.Reason))
		}
		// Pipeline frames are compared exactly: one pixel is caught. The
		// content test catches 1-4 px leaks on lossless video and 2 px on
		// lossy video in the tests, but the decoder's colour conversion
		// smears chroma across a zone's edge even on lossless input, so
		// lossless cannot be told from lossy by the pixels: 2 px is promised.
		pc.SmallestLeakPx = 1
		if c.rep.Mode == ModeRecording {
			pc.SmallestLeakPx = 2
		}
	}
	if r.FramesLeaked > 0 {
		first := r.Leaks[0]
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d frames leak privacy pixels; first at frame %d (%d pixels in %v, first at x=%d y=%d)",
			r.FramesLeaked, r.FramesChecked, first.Frame, first.Pixels, first.Zones, first.First[0], first.First[1]))
	}
	if r.ViolationCount > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d detections or events outside a zone with valid signage; first: %s",
			r.ViolationCount, r.Violations[0].Detail))
	}
	if r.FramesChecked == 0 {
		inconclusive = append(inconclusive, "no frame could be decoded and checked")
	}
	if len(c.privacy) == 0 {
		// With no privacy zone a recording check looks at nothing, and a
		// PASS could be had by deleting every zone from the config.
		const none = "the camera has no privacy zone in this config: no pixel was checked for privacy"
		if r.Mode == ModeRecording {
			inconclusive = append(inconclusive, none+"; give the config that recorded it")
		} else {
			r.Notes = append(r.Notes, none+"; only detections against signage were checked")
		}
	}
	for _, t := range r.Tracks {
		switch {
		case t.Error != "":
			inconclusive = append(inconclusive, fmt.Sprintf("video track %d could not be fully read: %s", t.Index, t.Error))
		case r.Mode == ModeRecording && t.FramesChecked < t.AccessUnits:
			inconclusive = append(inconclusive, fmt.Sprintf("video track %d: %d of %d frames decoded and checked; the rest are not covered", t.Index, t.FramesChecked, t.AccessUnits))
		}
	}
	if r.Mode == ModePipeline && r.FramesDecoded > 0 && r.FramesDecoded < r.AccessUnits && r.DecodeErrors > 0 {
		inconclusive = append(inconclusive, fmt.Sprintf("%d of %d frames decoded (%d decode errors): the rest are not covered", r.FramesDecoded, r.AccessUnits, r.DecodeErrors))
	}
	if r.MaskFailed > 0 {
		// Fail closed: the frame was dropped, so nothing leaked; say so.
		r.Notes = append(r.Notes, fmt.Sprintf("%d frames were dropped by the mask stage (fail closed) and not checked", r.MaskFailed))
	}
	if r.DecodeErrors > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d decode errors; the frames they cost were never produced, so never checked", r.DecodeErrors))
	}
	switch {
	case len(r.Reasons) > 0:
		r.Verdict = Fail
		r.Notes = append(r.Notes, inconclusive...)
	case len(inconclusive) > 0:
		r.Verdict = Inconclusive
		r.Reasons = inconclusive
	default:
		r.Verdict = Pass
	}
	r.Check.SmallestLeakPx = 1
	for _, zs := range c.privacy {
		r.Check.SmallestLeakPx = max(r.Check.SmallestLeakPx, zs.Privacy.SmallestLeakPx)
	}
	r.Check.Rule = c.ruleText()
	r.Check.Checker = "Checked by internal/privacycheck: an exact per-pixel polygon test that shares no code with the mask stage or the zones rasteriser."
}

func coreless(pc *PrivacyCheck) bool {
	for _, n := range pc.Core {
		if n == 0 {
			return true
		}
	}
	return false
}

func coreSizes(pc *PrivacyCheck) string {
	var s []string
	for size, n := range pc.Core {
		if n == 0 {
			s = append(s, size)
		}
	}
	slices.Sort(s)
	return fmt.Sprint(s)
}

func (c *checker) ruleText() string {
	if c.rep.Mode == ModePipeline {
		return "every pixel whose square touches a privacy polygon must equal the fill colour exactly (frames straight from the mask stage)"
	}
	return fmt.Sprintf("content test on every pixel of every privacy zone in every video track: a pixel fails when its luma differs from the zone's fill "+
		"(estimated from the recording) by at least the noise threshold (%d..%d levels, from the flattest 8x8 blocks) and by more than %.1f of the largest "+
		"outside contrast within %d px (codec ringing), or by more than %d levels in any channel; pixels at least %d px inside also fail when they change "+
		"between frames by the noise threshold", privacycheck.MinNoise, privacycheck.MaxNoise, privacycheck.RingRatio, privacycheck.CoreDepth,
		privacycheck.HardBound, privacycheck.CoreDepth)
}
