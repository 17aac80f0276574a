package restream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
)

// QueueSize is how many masked frames wait for the encoder. Two absorb
// jitter; more would only add latency to a live view.
const QueueSize = 2

// Consumer takes encoded access units. WriteAU must not block and must not
// change the access unit.
type Consumer interface {
	WriteAU(au media.AccessUnit)
}

// EncoderConfig configures an Encoder.
type EncoderConfig struct {
	// Camera names the camera in logs.
	Camera string
	// Encode tunes the encoder; Width and Height are taken from the frames.
	Encode encode.Config
	// Consumers receive every access unit, in order.
	Consumers []Consumer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// EncoderStats are an Encoder's counters since it was created.
type EncoderStats struct {
	Encoded uint64 // pictures encoded
	Dropped uint64 // masked frames dropped because the encoder was busy
	Failed  uint64 // pictures the encoder rejected
}

// Encoder is the encoder stage of one camera: a pipeline.Output.
type Encoder struct {
	cfg EncoderConfig
	log *slog.Logger

	mu     sync.Mutex // orders Offer against the end of Run
	in     chan *mask.Frame
	closed bool

	encoded, dropped, failed atomic.Uint64
	encFailed                *ratelog.Limiter
}

// NewEncoder returns an encoder stage; the libx264 encoder itself is opened
// at the first frame, when the picture size is known.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if !(cfg.Encode.FPS > 0) || cfg.Encode.BitrateKbps <= 0 {
		return nil, fmt.Errorf("restream: camera %s: encode fps %v and bitrate %d kbit/s must be positive (configs fills in their defaults)", cfg.Camera, cfg.Encode.FPS, cfg.Encode.BitrateKbps)
	}
	if len(cfg.Consumers) == 0 {
		return nil, fmt.Errorf("restream: camera %s: encoder has no consumers (add the restream path or a recorder)", cfg.Camera)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Encoder{cfg: cfg, log: cfg.Logger.With("camera", cfg.Camera), in: make(chan *mask.Frame, QueueSize)}
	e.encFailed = ratelog.New(e.log, slog.LevelWarn, "restream encode failed")
	return e, nil
}

// Offer queues f for encoding, or drops it (closing it) when the queue is
// full or Run has ended. It never blocks; it owns f from here.
func (e *Encoder) Offer(f *mask.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		f.Close()
		return
	}
	select {
	case e.in <- f:
	default:
		e.dropped.Add(1)
		f.Close()
	}
}

// Stats returns the counters.
func (e *Encoder) Stats() EncoderStats {
	return EncoderStats{Encoded: e.encoded.Load(), Dropped: e.dropped.Load(), Failed: e.failed.Load()}
}

// Run encodes queued frames until ctx is done; it returns nil then. Frames
// offered afterwards are closed at once.
func (e *Encoder) Run(ctx context.Context) error {
	var enc *encode.Encoder
	defer func() {
		if enc != nil {
			enc.Close()
		}
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		for {
			select {
			case f := <-e.in:
				f.Close()
			default:
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var (
		reported uint64
		clock    ptsClock
		keys     keyTimer
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			// Once a second, like mediamtx, rather than a line per frame.
			if d := e.dropped.Load(); d != reported {
				e.log.Warn("restream encoder is too slow, discarding frames", "dropped", d-reported)
				reported = d
			}
		case f := <-e.in:
			var err error
			enc, err = e.encode(enc, f, &clock, &keys)
			f.Close()
			if err != nil {
				e.failed.Add(1)
				e.encFailed.Log("err", err)
			}
		}
	}
}

// encode encodes one frame, reopening the encoder when the size changed.
func (e *Encoder) encode(enc *encode.Encoder, f *mask.Frame, clock *ptsClock, keys *keyTimer) (*encode.Encoder, error) {
	m := f.Mat()
	// YUV 4:2:0 needs even sizes; an odd row or column is cut off.
	w, h := m.Cols()&^1, m.Rows()&^1
	if enc != nil {
		if iw, ih := enc.InSize(); iw != w || ih != h {
			enc.Close()
			enc = nil
		}
	}
	if enc == nil {
		cfg := e.cfg.Encode
		cfg.Width, cfg.Height = w, h
		var err error
		if enc, err = encode.New(cfg); err != nil {
			return nil, err
		}
		ow, oh := enc.OutSize()
		e.log.Info("restream encoder opened", "in", fmt.Sprintf("%dx%d", w, h), "out", fmt.Sprintf("%dx%d", ow, oh),
			"fps", cfg.FPS, "bitrate_kbps", cfg.BitrateKbps)
	}
	data, err := m.DataPtrUint8()
	if err != nil {
		return enc, fmt.Errorf("frame %d: %w", f.Seq(), err)
	}
	pts := clock.next(f.PTS(), e.cfg.Encode.FPS)
	// libx264 counts its GOP in frames at the nominal rate; cameras send at
	// their own rate, so the interval is also kept in stream time.
	gop := e.cfg.Encode.GOP
	if gop <= 0 {
		gop = encode.DefaultGOP
	}
	if keys.have && pts-keys.last >= gop {
		enc.ForceKey()
	}
	pkts, err := enc.Encode(data, m.Step(), pts)
	if err != nil {
		return enc, err
	}
	ow, oh := enc.OutSize()
	for _, p := range pkts {
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(p.Data); err != nil {
			return enc, fmt.Errorf("encoder output is not Annex-B: %w", err)
		}
		if p.Key {
			keys.have, keys.last = true, p.PTS
		}
		au := media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: ow, Height: oh}
		e.encoded.Add(1)
		for _, c := range e.cfg.Consumers {
			c.WriteAU(au)
		}
	}
	return enc, nil
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

// errNoStream is returned for paths whose camera has not sent a keyframe yet.
var errNoStream = errors.New("no picture yet")
