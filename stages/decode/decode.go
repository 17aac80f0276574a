// Package decode turns access units from ingest into YUV 4:2:0 pictures (Frame)
// with libavcodec, for the mask stage and nothing else.
package decode

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/media"
)

// Config tunes the decode stage.
type Config struct {
	// Threads is the number of libavcodec slice threads per camera. It
	// defaults to 1: each camera decodes on its own goroutine and the target
	// box has 2 cores. Raise it only for few cameras with multi-slice streams.
	Threads int
	// Logger receives decode errors (rate-limited to one line per keyframe
	// wait). It defaults to slog.Default().
	Logger *slog.Logger
	// Native, when set, also converts every picture that is not 8-bit YUV
	// 4:2:0 (4:4:4, 4:2:2, full range, 10 bits) straight to BGR at its own
	// resolution into Frame.Native. Reducing such a picture to 4:2:0
	// averages each 2x2 block's colour, which can cancel out colour a
	// checker must see: edge verify reads recordings with it.
	Native bool
	// Observe, when set, is told how long each picture took to decode and
	// convert (not counting the wait for the next stage), for metrics.
	Observe func(time.Duration)
}

// Stats are the stage's counters, read with Decoder.Stats.
type Stats struct {
	Decoded              uint64 // pictures sent downstream
	Errors               uint64 // access units or pictures libavcodec rejected
	SkippedUntilKeyframe uint64 // access units dropped while waiting for a keyframe
	Unsupported          uint64 // pictures dropped for a size outside MinSide..MaxSide
	Width, Height        int    // size of the last decoded picture
	// Refused says why the stream's latest picture was dropped for its
	// size; empty once a supported picture follows.
	Refused string
}

// Decoder is the decode stage. Run and DecodeAU must not be used at the same
// time; Stats may be read from any goroutine.
type Decoder struct {
	cfg Config
	log *slog.Logger

	dec     *avcodec.Decoder // nil until the first access unit
	codec   media.Codec
	waitKey bool
	buf     []byte   // Annex-B staging buffer, reused
	recv    [32]recv // Received times by PTS, for pictures that come out reordered
	recvN   int
	seq     uint64
	lastErr error

	decoded, errs, skipped, unsupported atomic.Uint64
	width, height                       atomic.Int64
	refused                             atomic.Pointer[string]
	lastRefused                         [2]int // size last logged as refused
}

type recv struct {
	pts int64
	at  time.Time
}

// New returns a decode stage. The libavcodec decoder is opened lazily for the
// codec of the first access unit.
func New(cfg Config) (*Decoder, error) {
	if cfg.Threads < 0 {
		return nil, fmt.Errorf("decode: Threads is %d; use 0 for the default (1) or a positive count", cfg.Threads)
	}
	if cfg.Threads == 0 {
		cfg.Threads = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Decoder{cfg: cfg, log: cfg.Logger, waitKey: true}, nil
}

// Stats returns a snapshot of the counters.
func (d *Decoder) Stats() Stats {
	st := Stats{
		Decoded:              d.decoded.Load(),
		Errors:               d.errs.Load(),
		SkippedUntilKeyframe: d.skipped.Load(),
		Unsupported:          d.unsupported.Load(),
		Width:                int(d.width.Load()),
		Height:               int(d.height.Load()),
	}
	if r := d.refused.Load(); r != nil {
		st.Refused = *r
	}
	return st
}

// Run decodes access units from in and sends pictures to out until in is
// closed (it then drains the decoder and returns nil) or ctx is cancelled (it
// returns ctx.Err()). It closes out on return. Decoding starts at a keyframe;
// after an error it resumes at the next keyframe. out should be bounded; the
// stage blocks on it, leaving the drop policy to ingest upstream.
func (d *Decoder) Run(ctx context.Context, in <-chan media.AccessUnit, out chan<- Frame) error {
	defer close(out)
	defer d.Close()
	emit := func(f Frame) error {
		select {
		case out <- f:
			return nil
		case <-ctx.Done():
			f.Close()
			return ctx.Err()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case au, ok := <-in:
			if !ok {
				return d.drain(emit)
			}
			if err := d.decode(au, emit); err != nil {
				return err
			}
		}
	}
}

// DecodeAU decodes one access unit synchronously, for tools. It returns the
// pictures it produced (none while waiting for a keyframe, after an error or
// while the decoder buffers); the caller closes their pictures. Decode errors
// are counted and returned, and decoding resumes at the next keyframe.
func (d *Decoder) DecodeAU(au media.AccessUnit) ([]Frame, error) {
	var frames []Frame
	failed := d.failures()
	err := d.decode(au, func(f Frame) error {
		frames = append(frames, f)
		return nil
	})
	if err == nil && d.failures() != failed {
		err = d.lastErr
	}
	return frames, err
}

// Flush returns the pictures still buffered in the decoder at the end of a
// stream, for tools using DecodeAU. The caller closes their pictures.
func (d *Decoder) Flush() ([]Frame, error) {
	var frames []Frame
	failed := d.failures()
	err := d.drain(func(f Frame) error {
		frames = append(frames, f)
		return nil
	})
	if err == nil && d.failures() != failed {
		err = d.lastErr
	}
	return frames, err
}

// failures counts what made a picture fail to come out.
func (d *Decoder) failures() uint64 { return d.errs.Load() + d.unsupported.Load() }

// Close frees the libavcodec decoder. Run calls it on return; it is safe to
// call more than once.
func (d *Decoder) Close() {
	if d.dec != nil {
		d.dec.Close()
		d.dec = nil
	}
}
