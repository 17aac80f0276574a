package encode

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
)

// Config configures an Encoder.
type Config struct {
	// Camera names the camera in logs.
	Camera string
	// Encode tunes libx264. Width and Height are taken from the frames, and
	// FPS from their timestamps; Encode.FPS is the rate used when those say
	// nothing usable (equal, backwards, or further apart than a second).
	Encode encode.Config
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Stats are an Encoder's counters since it was created.
type Stats struct {
	Encoded uint64 // access units produced
	Failed  uint64 // pictures the encoder rejected
	// StaleMask counts frames not encoded because a reload changed the
	// privacy zones after they were masked.
	StaleMask uint64
}

// Encoder is the encoder stage of one camera.
type Encoder struct {
	cfg       Config
	log       *slog.Logger
	encFailed *ratelog.Limiter

	encoded, failed, stale atomic.Uint64
}

// New checks cfg; libx264 itself is opened once the picture size and the
// camera's rate are known.
func New(cfg Config) (*Encoder, error) {
	if !(cfg.Encode.FPS > 0) || cfg.Encode.BitrateKbps <= 0 {
		return nil, fmt.Errorf("encode: camera %s: encode fps %v and bitrate %d kbit/s must be positive (configs fills in their defaults)", cfg.Camera, cfg.Encode.FPS, cfg.Encode.BitrateKbps)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Encoder{cfg: cfg, log: cfg.Logger.With("camera", cfg.Camera)}
	e.encFailed = ratelog.New(e.log, slog.LevelWarn, "restream encode failed")
	return e, nil
}

// Stats returns the counters.
func (e *Encoder) Stats() Stats {
	return Stats{Encoded: e.encoded.Load(), Failed: e.failed.Load(), StaleMask: e.stale.Load()}
}

// Run encodes frames from in until in is closed or ctx is done, sending each
// access unit to out; it closes out and returns nil. It closes every frame it
// takes. A send to out waits: the Fanout behind it never blocks.
func (e *Encoder) Run(ctx context.Context, in <-chan *mask.Frame, out chan<- media.AccessUnit) error {
	defer close(out)
	r := run{e: e, out: out}
	defer r.close()
	for {
		f, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		if err := r.frame(ctx, f); err != nil {
			e.failed.Add(1)
			e.encFailed.Log("err", err)
		}
	}
}

// run is the state of one Run: the open libx264 encoder, the output clock,
// the measured rate and the frame held while measuring it.
type run struct {
	e     *Encoder
	out   chan<- media.AccessUnit
	enc   *encode.Encoder
	fps   float64     // measured rate; 0 until known
	held  *mask.Frame // the first frame, until the second gives the rate
	clock ptsClock
	keys  keyTimer
	// mask is the privacy-zone epoch of the last frame encoded: the first
	// frame of a new one is coded as an IDR, which references nothing
	// painted with the old zones, so consumers that dropped the old units
	// start again there.
	mask    maskepoch.Stamp
	encoded bool // mask is set
}

func (r *run) close() {
	if r.held != nil {
		r.held.Close()
	}
	if r.enc != nil {
		r.enc.Close()
	}
}

// frame takes one frame: it measures the rate from the first two, then
// encodes them in order.
func (r *run) frame(ctx context.Context, f *mask.Frame) error {
	defer f.Close()
	// YUV 4:2:0 needs even sizes; an odd row or column is cut off.
	sz := f.Size()
	if err := encode.CheckSize(sz.X&^1, sz.Y&^1); err != nil {
		return fmt.Errorf("frame %d: %w", f.Seq(), err)
	}
	if r.fps == 0 {
		if r.held == nil {
			r.held = f.Ref()
			return nil
		}
		r.fps = SourceRate(r.held.PTS(), f.PTS(), r.e.cfg.Encode.FPS)
		held := r.held
		r.held = nil
		err := r.encode(ctx, held)
		held.Close()
		if err != nil {
			r.e.failed.Add(1)
			r.e.encFailed.Log("err", err)
		}
	}
	return r.encode(ctx, f)
}

// SourceRate is the frame rate two consecutive timestamps show, rounded to
// a thousandth of a frame per second and capped at 60 (the most encode.fps
// allows); fallback when they are not 1 ms to 1 s apart.
func SourceRate(prev, next time.Duration, fallback float64) float64 {
	d := next - prev
	if d < time.Millisecond || d > time.Second {
		return fallback
	}
	return min(60, math.Round(float64(time.Second)/float64(d)*1000)/1000)
}

// encode encodes one frame, reopening libx264 when the size changed. A
// frame whose privacy zones a reload has replaced is dropped (counted).
func (r *run) encode(ctx context.Context, f *mask.Frame) error {
	if f.Stale() {
		r.e.stale.Add(1)
		return nil
	}
	// The masked planes as they are: no conversion to BGR and back for a
	// stream that is YUV at both ends.
	pl, err := f.Planes()
	if err != nil {
		return fmt.Errorf("frame %d: %w", f.Seq(), err)
	}
	w, h := pl.W&^1, pl.H&^1
	if r.enc != nil {
		if iw, ih := r.enc.InSize(); iw != w || ih != h {
			r.enc.Close()
			r.enc = nil
		}
	}
	if r.enc == nil {
		cfg := r.e.cfg.Encode
		cfg.Width, cfg.Height, cfg.FPS, cfg.Input = w, h, r.fps, encode.I420
		var err error
		if r.enc, err = encode.New(cfg); err != nil {
			return err
		}
		ow, oh := r.enc.OutSize()
		r.e.log.Info("restream encoder opened", "in", fmt.Sprintf("%dx%d", w, h), "out", fmt.Sprintf("%dx%d", ow, oh),
			"fps", cfg.FPS, "nominal_fps", r.e.cfg.Encode.FPS, "bitrate_kbps", cfg.BitrateKbps)
	}
	pts := r.clock.next(f.PTS(), r.fps)
	// libx264 counts its GOP in frames at the nominal rate; cameras send at
	// their own rate, so the interval is also kept in stream time.
	gop := r.e.cfg.Encode.GOP
	if gop <= 0 {
		gop = encode.DefaultGOP
	}
	if r.keys.have && pts-r.keys.last >= gop {
		r.enc.ForceKey()
	}
	if r.encoded && !f.Stamp().Same(r.mask) {
		r.enc.ForceKey()
	}
	r.mask, r.encoded = f.Stamp(), true
	pkts, err := r.enc.EncodeI420(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, pts)
	if err != nil {
		return err
	}
	ow, oh := r.enc.OutSize()
	for _, p := range pkts {
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(p.Data); err != nil {
			return fmt.Errorf("encoder output is not Annex-B: %w", err)
		}
		if p.Key {
			r.keys.have, r.keys.last = true, p.PTS
		}
		au := media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: ow, Height: oh, Mask: f.Stamp()}
		// Counted before it is handed on, as the decoder counts: whoever
		// receives the unit and then reads Stats finds it counted.
		r.e.encoded.Add(1)
		if !flow.Send(ctx, r.out, au) {
			r.e.encoded.Add(^uint64(0)) // not handed on: stopping
			return nil
		}
	}
	return nil
}

// keyTimer remembers the last keyframe's time.
type keyTimer struct {
	have bool
	last time.Duration
}

// ptsClock maps stream time to an output time that always increases: when
// the camera restarts (its clock goes back) or jumps ahead, the output goes
// on one frame interval after the last picture.
type ptsClock struct {
	have        bool
	lastIn, out time.Duration
	offset      time.Duration
}

// maxGap is the largest forward jump of the stream clock taken as is.
const maxGap = 5 * time.Second

func (c *ptsClock) next(in time.Duration, fps float64) time.Duration {
	if !c.have {
		c.have, c.lastIn, c.offset = true, in, -in
		c.out = 0
		return 0
	}
	if in <= c.lastIn || in-c.lastIn > maxGap {
		step := time.Duration(float64(time.Second) / fps)
		c.offset = c.out + step - in
	}
	c.lastIn = in
	c.out = in + c.offset
	return c.out
}
