// Package mask holds the privacy mask stage: the only way from a decoded
// frame to one that later stages accept.
package mask

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/zones"
)

// ErrUnmaskable marks a frame the stage could not paint over; such a frame is dropped.
var ErrUnmaskable = errors.New("frame cannot be masked")

// Config configures the mask stage of one camera.
type Config struct {
	// Zones holds the camera's privacy polygons; the raster per frame size is cached there.
	Zones *zones.Set
	// Epoch is the camera's privacy-zone epoch: a reload swaps Zones'
	// privacy polygons inside Epoch.Advance, and every frame is stamped with
	// the epoch of the polygons it was painted with. Nil gives the stage a
	// clock of its own, which nothing advances.
	Epoch *maskepoch.Clock
	// Color is the fill, as B, G, R. It defaults to black.
	Color [3]uint8
	// Block makes Run wait for a slow consumer instead of dropping frames. Offline
	// tools (verify) set it so that every frame is checked; live cameras do not, so
	// that a slow detector never stalls ingest.
	Block bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Observe, when set, is told how long each frame took to mask, for metrics.
	Observe func(time.Duration)
}

// Stats are the stage's counters since it was created.
type Stats struct {
	Masked     uint64 // frames painted and passed on (or offered)
	Failed     uint64 // frames dropped because the mask could not be applied
	Downstream uint64 // masked frames dropped because the consumer was busy
}

// Stage paints every privacy zone onto each decoded frame.
type Stage struct {
	cfg        Config
	log        *slog.Logger
	masked     atomic.Uint64
	failed     atomic.Uint64
	downstream atomic.Uint64
}

// New returns a mask stage. A nil zone set is refused: a camera without
// privacy zones still passes through here, with an empty set.
func New(cfg Config) (*Stage, error) {
	if cfg.Zones == nil {
		return nil, errors.New("mask: no zone set given (use an empty zones.Set for a camera without privacy zones)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Epoch == nil {
		cfg.Epoch = maskepoch.New(zones.Fingerprint(cfg.Zones.Privacy()))
	}
	return &Stage{cfg: cfg, log: cfg.Logger}, nil
}

// Stats returns the counters.
func (s *Stage) Stats() Stats {
	return Stats{Masked: s.masked.Load(), Failed: s.failed.Load(), Downstream: s.downstream.Load()}
}

// Apply paints the privacy zones onto f and returns the masked frame,
// stamped with the epoch of the zones it was painted with. It takes
// ownership of f: on error the frame is closed, so an unmasked frame can
// never escape through an error path; the masked frame keeps only f's
// picture (an unmasked native copy is closed).
func (s *Stage) Apply(f decode.Frame) (*Frame, error) {
	start := time.Now()
	// The raster and the stamp are read together: a reload swapping the
	// zones between them would stamp a picture with zones it lacks.
	var mk *zones.Mask
	stamp := s.cfg.Epoch.Stamp(func() {
		if !f.Pic.Empty() {
			sz := f.Pic.Size()
			mk = s.cfg.Zones.PrivacyMask(sz.X, sz.Y)
		}
	})
	err := paint(f.Pic, mk, s.cfg.Color)
	if s.cfg.Observe != nil {
		s.cfg.Observe(time.Since(start))
	}
	if err != nil {
		f.Close()
		s.failed.Add(1)
		return nil, err
	}
	s.masked.Add(1)
	return newFrame(f.TakePic(), f.Seq, f.PTS, f.Received, stamp), nil
}

// Run masks every frame from in and sends it to out until in is closed or ctx
// is done. It closes out when it returns.
func (s *Stage) Run(ctx context.Context, in <-chan decode.Frame, out chan<- *Frame) error {
	defer close(out)
	failed := ratelog.New(s.log, slog.LevelError, "privacy mask failed; frame dropped")
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		m, err := s.Apply(f)
		if err != nil {
			// Fail closed: the frame is gone.
			failed.Log("seq", f.Seq, "err", err)
			continue
		}
		if !s.send(ctx, out, m) {
			return nil
		}
	}
}

func (s *Stage) send(ctx context.Context, out chan<- *Frame, m *Frame) bool {
	switch Send(ctx, out, m, s.cfg.Block) {
	case Dropped:
		s.downstream.Add(1)
	case Cancelled:
		return false
	}
	return true
}

// Paint fills every pixel of every privacy zone of set in p with color
// (B, G, R), on the YUV planes: every luma pixel the zones touch, and every
// chroma sample any of whose luma pixels (up to 2x2, fewer on an odd last
// column or row) the zones touch, so no colour of a private pixel is left
// to reach a conversion. The fill is color's nearest YUV value (see
// ShownFill). An empty or malformed picture is refused with ErrUnmaskable
// rather than guessed at.
func Paint(p yuv.Picture, set *zones.Set, color [3]uint8) error {
	if p.Empty() {
		return fmt.Errorf("%w: empty picture", ErrUnmaskable)
	}
	sz := p.Size()
	return paint(p, set.PrivacyMask(sz.X, sz.Y), color)
}

// paint is Paint with the zones' raster for p's size already looked up.
func paint(p yuv.Picture, mk *zones.Mask, color [3]uint8) error {
	if p.Empty() {
		return fmt.Errorf("%w: empty picture", ErrUnmaskable)
	}
	sz := p.Size()
	w, h := sz.X, sz.Y
	if mk == nil || mk.W != w || mk.H != h || len(mk.Rows) != h {
		return fmt.Errorf("%w: no privacy raster for %dx%d", ErrUnmaskable, w, h)
	}
	pl, err := p.Planes()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnmaskable, err)
	}
	c := yuv.FromBGRColor(color)
	span := func(sp zones.Span) (int, int) {
		x0, x1 := sp.X0, sp.X1
		if spanShift != 0 {
			x0, x1 = max(x0-spanShift, 0), max(x1-spanShift, 0)
		}
		return x0, x1
	}
	for y, spans := range mk.Rows {
		row := pl.Y[y*pl.YStride : y*pl.YStride+w]
		for _, sp := range spans {
			x0, x1 := span(sp)
			fill(row[x0:x1], c.Y)
		}
	}
	for cy := 0; cy < pl.CH; cy++ {
		u := pl.U[cy*pl.CStride : cy*pl.CStride+pl.CW]
		v := pl.V[cy*pl.CStride : cy*pl.CStride+pl.CW]
		for y := 2 * cy; y < min(2*cy+2, h); y++ {
			for _, sp := range mk.Rows[y] {
				x0, x1 := span(sp)
				// Round outwards: a sample shared by a private pixel and a
				// public one is private.
				fill(u[x0/2:(x1+1)/2], c.U)
				fill(v[x0/2:(x1+1)/2], c.V)
			}
		}
	}
	pl.Pad()
	return nil
}

// ShownFill is the BGR value a pixel painted with color has once a masked
// picture is converted to BGR: color itself within a level or two, since
// YUV cannot hold every BGR value exactly.
func ShownFill(color [3]uint8) ([3]uint8, error) {
	return yuv.ShownBGR(yuv.FromBGRColor(color))
}

// spanShift moves every painted span left by this many pixels. It is 0 in
// every real build; only test builds with -tags maskshift set it (see
// fault_maskshift.go), to prove that verify catches a broken mask.
var spanShift int

// fill sets every byte of seg to v: memclr for 0, otherwise doubling
// copies, which the runtime turns into wide moves.
func fill(seg []byte, v byte) {
	if len(seg) == 0 {
		return
	}
	if v == 0 {
		clear(seg)
		return
	}
	seg[0] = v
	for n := 1; n < len(seg); n *= 2 {
		copy(seg[n:], seg[:n])
	}
}
