// Package motion holds the motion gate: a cheap frame-difference test that
// keeps the person detector idle while nothing moves in the analysed zones.
//
// The gate looks only at the analysis mask (monitored zones with valid
// signage, minus privacy zones), so movement in a privacy zone or in an
// unsigned area never wakes the detector. When no zone is active at all,
// nothing is analysed and nothing is passed on.
package motion

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// Config configures the motion gate of one camera.
type Config struct {
	// Zones decides which pixels are analysed at a given time. Required.
	Zones *zones.Set
	// Width is the width, in pixels, frames are scaled down to before
	// differencing (never up). It defaults to 160.
	Width int
	// Threshold is the grey-level difference (0..255) above which a pixel
	// counts as changed. It defaults to 25.
	Threshold int
	// MinArea is the fraction (0..1] of the analysed pixels that must change
	// for a frame to count as motion. It defaults to 0.002.
	MinArea float64
	// Keepalive passes a frame at least this often even without motion, so
	// that people standing still stay tracked. It defaults to 3 seconds.
	Keepalive time.Duration
	// Hangover keeps passing frames this long after the last motion, so the
	// tracker sees the zone empty soon after someone leaves it and reports
	// the exit then, not at the next keepalive. It defaults to 2 seconds.
	Hangover time.Duration
	// Clock is the camera's clock: the time of a frame, which signage is
	// checked against and keepalive measured with (stream time in offline
	// runs). It defaults to the wall clock.
	Clock *clock.Clock
	// Block makes Run wait for the detector instead of dropping frames, so
	// that offline runs analyse the same frames every time.
	Block bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Stats are the gate's counters since it was created.
type Stats struct {
	In           uint64 // frames received
	Passed       uint64 // frames sent on (motion or keepalive)
	Keepalive    uint64 // of Passed, those sent only because keepalive expired
	Gated        uint64 // frames dropped for lack of motion
	Busy         uint64 // frames that should have passed but the detector was busy
	NoActiveZone uint64 // frames not analysed because no zone may be analysed
}

// Gate is the motion gate stage.
type Gate struct {
	cfg    Config
	log    *slog.Logger
	failed *ratelog.Limiter

	in, passed, keepalive, gated, busy, noZone atomic.Uint64
}

// New returns a motion gate; zero fields of cfg take their defaults.
func New(cfg Config) (*Gate, error) {
	if cfg.Zones == nil {
		return nil, errors.New("motion: no zone set given (build one with zones.NewSet)")
	}
	if cfg.Width == 0 {
		cfg.Width = 160
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = 25
	}
	if cfg.MinArea == 0 {
		cfg.MinArea = 0.002
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = 3 * time.Second
	}
	if cfg.Hangover == 0 {
		cfg.Hangover = 2 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Live(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Width < 8:
		return nil, fmt.Errorf("motion: width %d is too small, use at least 8 pixels (default 160)", cfg.Width)
	case cfg.Threshold < 1 || cfg.Threshold > 254:
		return nil, fmt.Errorf("motion: threshold %d outside 1..254 (default 25)", cfg.Threshold)
	case cfg.MinArea < 0 || cfg.MinArea > 1:
		return nil, fmt.Errorf("motion: min_area %v outside 0..1 (a fraction of the analysed area, default 0.002)", cfg.MinArea)
	case cfg.Hangover < 0:
		return nil, fmt.Errorf("motion: hangover %v is negative (default 2s)", cfg.Hangover)
	case cfg.Keepalive < 0:
		return nil, fmt.Errorf("motion: keepalive %v is negative (default 3s)", cfg.Keepalive)
	}
	return &Gate{cfg: cfg, log: cfg.Logger, failed: ratelog.New(cfg.Logger, slog.LevelError, "motion analysis failed; frame dropped")}, nil
}

// Stats returns the counters.
func (g *Gate) Stats() Stats {
	return Stats{
		In: g.in.Load(), Passed: g.passed.Load(), Keepalive: g.keepalive.Load(),
		Gated: g.gated.Load(), Busy: g.busy.Load(), NoActiveZone: g.noZone.Load(),
	}
}

// Run gates frames from in to out until in is closed or ctx is done, and
// closes out when it returns.
//
// Drop policy: sends never block (unless Block is set). Detection keeps only the latest frame, so
// a frame that finds out full is dropped (closed and counted as Busy). Every
// frame received is closed or handed on exactly once.
func (g *Gate) Run(ctx context.Context, in <-chan *mask.Frame, out chan<- *mask.Frame) error {
	defer close(out)
	st := newState(g.cfg)
	defer st.close()
	var lastPass, lastMotion time.Time
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		g.in.Add(1)
		t := g.cfg.Clock.At(f.PTS())
		verdict, moving, err := st.analyse(f, t)
		if err != nil {
			g.failed.Log("seq", f.Seq(), "err", err)
			f.Close()
			g.gated.Add(1)
			continue
		}
		keep, byKeepalive := false, false
		switch {
		case verdict == noZone:
			// Nothing may be analysed, so nothing passes; the difference
			// baseline restarts when a zone becomes active again.
			g.noZone.Add(1)
		case verdict == moved:
			keep, lastMotion = true, t
		case !lastMotion.IsZero() && t.Sub(lastMotion) < g.cfg.Hangover:
			keep = true
		case lastPass.IsZero() || t.Sub(lastPass) >= g.cfg.Keepalive:
			keep, byKeepalive = true, true
		default:
			g.gated.Add(1)
		}
		if !keep {
			f.Close()
			continue
		}
		f.NoteMotion(moving)
		switch mask.Send(ctx, out, f, g.cfg.Block) {
		case mask.Cancelled:
			return nil
		case mask.Dropped:
			g.busy.Add(1)
			continue
		}
		g.passed.Add(1)
		if byKeepalive {
			g.keepalive.Add(1)
		}
		lastPass = t
	}
}

type verdict int

const (
	still verdict = iota
	moved
	noZone
)

// state is the gate's per-Run image state; only Run's goroutine touches it.
type state struct {
	cfg        Config
	grey, prev gocv.Mat
	coarse     gocv.Mat // luma averaged over whole k x k blocks, on the way to grey
	diff       gocv.Mat
	// maskMat is the analysis mask rasterised at the analysis size, kept
	// while the zones package returns the same *Mask (same size and active
	// set), so the common case costs no rasterising and no allocation.
	maskSrc   *zones.Mask
	maskMat   gocv.Mat
	maskCount int
}

func newState(cfg Config) *state {
	return &state{
		cfg: cfg, grey: gocv.NewMat(), prev: gocv.NewMat(),
		diff: gocv.NewMat(), maskMat: gocv.NewMat(), coarse: gocv.NewMat(),
	}
}

func (s *state) close() {
	for _, m := range []*gocv.Mat{&s.grey, &s.prev, &s.diff, &s.maskMat, &s.coarse} {
		m.Close()
	}
}

// AnalysisSize is the size frames of size sz are differenced at for an
// analysis width of w: w wide (never wider than sz), aspect kept.
func AnalysisSize(sz image.Point, w int) image.Point {
	if sz.X <= w {
		return sz
	}
	h := max(1, (sz.Y*w+sz.X/2)/sz.X)
	return image.Pt(w, h)
}

// analyse compares f with the frame before it; with motion, it also says
// where it moved (frame pixels, inside the analysed zones).
func (s *state) analyse(f *mask.Frame, t time.Time) (verdict, []image.Rectangle, error) {
	if len(s.cfg.Zones.ActiveAt(t)) == 0 {
		s.resetPrev()
		return noZone, nil, nil
	}
	// Luma only, never converted to BGR: motion needs brightness, and
	// the masked planes are what the mask stage painted.
	src := f.Luma()
	if src.Empty() || src.Channels() != 1 {
		return still, nil, fmt.Errorf("motion: frame %d has no luma plane (%d channels)", f.Seq(), src.Channels())
	}
	sz := AnalysisSize(f.Size(), s.cfg.Width)
	am := s.cfg.Zones.AnalysisMask(sz.X, sz.Y, t)
	if am != s.maskSrc {
		s.setMask(am)
	}
	if s.maskCount == 0 {
		// Active zones wholly covered by privacy zones: nothing to analyse.
		s.resetPrev()
		return noZone, nil, nil
	}
	s.downscale(src, sz)
	// Blank what may not be analysed before blurring, so the blur cannot
	// carry motion from outside the signed zones into them. (Downscaling
	// can still mix in up to one small pixel's worth at a zone's edge.)
	gocv.BitwiseAnd(s.grey, s.maskMat, &s.grey)
	gocv.GaussianBlur(s.grey, &s.grey, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	if s.prev.Empty() || s.prev.Cols() != sz.X || s.prev.Rows() != sz.Y {
		// No baseline: the first frame counts as still (keepalive decides).
		s.grey, s.prev = s.prev, s.grey
		return still, nil, nil
	}
	gocv.AbsDiff(s.grey, s.prev, &s.diff)
	gocv.Threshold(s.diff, &s.diff, lumaLevels(s.cfg.Threshold), 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(s.diff, s.maskMat, &s.diff)
	n := gocv.CountNonZero(s.diff)
	s.grey, s.prev = s.prev, s.grey
	if n > 0 && float64(n) >= s.cfg.MinArea*float64(s.maskCount) {
		return moved, regions(s.diff, f.Size()), nil
	}
	return still, nil, nil
}

// regions is the bounding box of each changed blob of diff (the analysis
// size), in the pixels of a frame of size sz.
func regions(diff gocv.Mat, sz image.Point) []image.Rectangle {
	cs := gocv.FindContours(diff, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer cs.Close()
	sx, sy := float64(sz.X)/float64(diff.Cols()), float64(sz.Y)/float64(diff.Rows())
	rs := make([]image.Rectangle, 0, cs.Size())
	for i := range cs.Size() {
		b := gocv.BoundingRect(cs.At(i))
		r := image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy),
			int(math.Ceil(float64(b.Max.X)*sx)), int(math.Ceil(float64(b.Max.Y)*sy)))
		rs = append(rs, r.Intersect(image.Rectangle{Max: sz}))
	}
	return rs
}

// downscale averages src down to sz into s.grey. OpenCV's area
// interpolation is several times faster for a whole factor (768 -> 192
// wide, factor 4) than for a fractional one (768 -> 160, 4.8), and it was a
// tenth of the box's CPU at 36 cameras; so the luma is first averaged over
// the largest whole blocks that leave it at least sz, then area-scaled
// the rest of the way (a small picture, so cheap). Both steps average, so
// the result is the one-step area average within rounding.
func (s *state) downscale(src gocv.Mat, sz image.Point) {
	k := min(src.Cols()/sz.X, src.Rows()/sz.Y)
	if k < 2 || src.Cols()%k != 0 || src.Rows()%k != 0 {
		gocv.Resize(src, &s.grey, sz, 0, 0, gocv.InterpolationArea)
		return
	}
	gocv.Resize(src, &s.coarse, image.Pt(src.Cols()/k, src.Rows()/k), 0, 0, gocv.InterpolationArea)
	gocv.Resize(s.coarse, &s.grey, sz, 0, 0, gocv.InterpolationArea)
}

// lumaLevels turns a grey-level threshold (0..255, full range) into luma
// levels: decoded luma spans 16..235, so the same change in brightness is
// 219/255 as many levels.
func lumaLevels(grey int) float32 { return float32(grey) * 219 / 255 }

// resetPrev forgets the baseline without freeing it.
func (s *state) resetPrev() {
	if !s.prev.Empty() {
		s.prev.Close()
		s.prev = gocv.NewMat()
	}
}

// setMask rasterises am into maskMat: 255 inside, 0 outside.
func (s *state) setMask(am *zones.Mask) {
	s.maskMat.Close()
	s.maskMat = MaskMat(am)
	s.maskSrc = am
	s.maskCount = am.Count()
}

// MaskMat returns m as a single-channel 8-bit Mat of m.H rows and m.W
// columns, 255 on the mask's pixels and 0 elsewhere. The caller closes it.
func MaskMat(m *zones.Mask) gocv.Mat {
	out := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), m.H, m.W, gocv.MatTypeCV8U)
	if m.W == 0 || m.H == 0 {
		return out
	}
	data, err := out.DataPtrUint8()
	if err != nil {
		// A freshly allocated Mat is continuous; anything else is a broken invariant.
		panic(fmt.Sprintf("motion: new mask Mat not addressable: %v", err))
	}
	for y, row := range m.Rows {
		line := data[y*m.W : (y+1)*m.W]
		for _, sp := range row {
			seg := line[sp.X0:sp.X1]
			for i := range seg {
				seg[i] = 255
			}
		}
	}
	return out
}
