package decode

import (
	"errors"
	"fmt"
	"time"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/yuv"
	"gocv.io/x/gocv"
)

// ErrUnsupportedCodec is counted (and returned by DecodeAU) for access units
// whose codec is neither H.264 nor H.265.
var ErrUnsupportedCodec = errors.New("decode: unsupported codec; only H.264 and H.265 can be decoded")

// decode feeds one access unit and emits the pictures it yields. It returns
// only errors that must end Run (cancellation, a decoder that cannot be
// opened); bitstream errors are counted and decoding resumes at a keyframe.
func (d *Decoder) decode(au media.AccessUnit, emit func(Frame) error) error {
	if d.dec == nil || au.Codec != d.codec {
		var ac media.Codec
		switch au.Codec {
		case media.H264:
			ac = media.H264
		case media.H265:
			ac = media.H265
		default:
			d.errs.Add(1)
			d.lastErr = fmt.Errorf("%w (got %v)", ErrUnsupportedCodec, au.Codec)
			return nil
		}
		d.Close()
		dec, err := avcodec.NewDecoder(ac, avcodec.Options{Threads: d.cfg.Threads})
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if d.codec != 0 {
			d.log.Info("stream codec changed, decoder re-created", "from", d.codec, "to", au.Codec)
		}
		d.dec, d.codec, d.waitKey = dec, au.Codec, true
	}
	if d.waitKey && !au.Keyframe {
		d.skipped.Add(1)
		return nil
	}

	d.buf = d.buf[:0]
	for _, n := range au.NALUs {
		if len(n) == 0 {
			continue
		}
		d.buf = append(d.buf, 0, 0, 0, 1)
		d.buf = append(d.buf, n...)
	}
	if len(d.buf) == 0 {
		return nil
	}
	pts := int64(au.PTS)
	d.recv[d.recvN%len(d.recv)] = recv{pts: pts, at: au.Received}
	d.recvN++

	start := time.Now()
	if err := d.dec.Send(d.buf, pts); err != nil {
		d.fail(err)
		return nil
	}
	d.waitKey = false
	return d.receive(emit, start)
}

// receive emits every picture the decoder has ready. start is when work on
// the first of them began.
func (d *Decoder) receive(emit func(Frame) error, start time.Time) error {
	for {
		ok, err := d.dec.Receive()
		if err != nil {
			d.fail(err)
			return nil
		}
		if !ok {
			return nil
		}
		w, h := d.dec.Width(), d.dec.Height()
		if err := Supported(w, h); err != nil {
			d.refuse(w, h, err)
			continue
		}
		if d.refused.Load() != nil {
			d.refused.Store(nil)
			d.lastRefused = [2]int{}
			d.log.Info("stream size supported again; decoding resumed", "size", fmt.Sprintf("%dx%d", w, h))
		}
		f, err := d.frame()
		if err != nil {
			d.fail(err)
			return nil
		}
		if d.cfg.Observe != nil {
			d.cfg.Observe(time.Since(start))
		}
		// Counted before it is handed on, so no stage downstream counts it
		// first: a read of Masked and then Decoded keeps Masked <= Decoded
		// (audit masking records, bench windows).
		d.decoded.Add(1)
		if err := emit(f); err != nil {
			d.decoded.Add(^uint64(0)) // not handed on: the run is ending
			return err
		}
		start = time.Now()
		d.seq++
	}
}

// frame copies the decoder's current picture into new I420 planes. It is
// not converted to BGR: masking paints the planes, and only what needs BGR
// (a detector's crop, a JPEG) converts, and only its part.
func (d *Decoder) frame() (Frame, error) {
	w, h := d.dec.Width(), d.dec.Height()
	pic, err := yuv.New(w, h)
	if err != nil {
		return Frame{}, fmt.Errorf("decode: %w", err)
	}
	pl, err := pic.Planes()
	if err == nil {
		err = d.dec.ToI420(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride)
	}
	if err != nil {
		pic.Close()
		return Frame{}, fmt.Errorf("decode: %dx%d picture to I420: %w", w, h, err)
	}
	pl.Pad()
	var native gocv.Mat
	if d.cfg.Native && !d.dec.IsI420() {
		if native, err = d.nativeBGR(w, h); err != nil {
			pic.Close()
			return Frame{}, err
		}
	}
	d.width.Store(int64(w))
	d.height.Store(int64(h))
	pts := d.dec.PTS()
	return Frame{Pic: pic, Native: native, Seq: d.seq, PTS: time.Duration(pts), Received: d.received(pts)}, nil
}

// nativeBGR converts the decoder's current picture to BGR at full
// resolution.
func (d *Decoder) nativeBGR(w, h int) (gocv.Mat, error) {
	m, err := yuv.SlackBGR(w, h, d.dec.ToBGR)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("decode: %dx%d picture to BGR at its own resolution: %w", w, h, err)
	}
	return m, nil
}

// received finds when the access unit with pts arrived. Pictures may leave
// the decoder in another order than their units entered it.
func (d *Decoder) received(pts int64) time.Time {
	for i := 1; i <= len(d.recv) && i <= d.recvN; i++ {
		r := d.recv[(d.recvN-i)%len(d.recv)]
		if r.pts == pts {
			return r.at
		}
	}
	return time.Now()
}

// refuse drops a picture of an unsupported size before any conversion,
// counts it, and logs each new size once: a stream refused for its size
// sends such pictures 25 times a second.
func (d *Decoder) refuse(w, h int, err error) {
	d.unsupported.Add(1)
	d.lastErr = err
	if d.lastRefused != [2]int{w, h} {
		d.lastRefused = [2]int{w, h}
		msg := err.Error()
		d.refused.Store(&msg)
		d.width.Store(int64(w))
		d.height.Store(int64(h))
		d.log.Error("stream refused: unsupported picture size", "size", fmt.Sprintf("%dx%d", w, h), "err", err)
	}
}

// fail counts a bitstream error and makes decoding restart at a keyframe.
func (d *Decoder) fail(err error) {
	d.errs.Add(1)
	d.lastErr = err
	if !d.waitKey {
		d.log.Warn("decode error, waiting for the next keyframe", "codec", d.codec, "err", err)
	}
	d.waitKey = true
	d.dec.Reset()
}

// drain emits the pictures the decoder still holds at the end of the stream
// and leaves it ready for a new one starting at a keyframe.
func (d *Decoder) drain(emit func(Frame) error) error {
	if d.dec == nil {
		return nil
	}
	defer func() {
		if d.dec != nil {
			d.dec.Reset()
		}
		d.waitKey = true
	}()
	start := time.Now()
	if err := d.dec.Flush(); err != nil {
		d.fail(err)
		return nil
	}
	return d.receive(emit, start)
}
