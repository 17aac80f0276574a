package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"github.com/edgeprivacy/edge/internal/media"
)

// tsClock is the MPEG-TS (and RTP video) clock rate.
const tsClock = 90000

// tsDemuxer reads an MPEG-TS file. MPEG-TS has no index, so opening a clip
// reads it once to find the parameter sets and its length.
type tsDemuxer struct {
	path  string
	codec media.Codec
	frame time.Duration // nominal frame interval, for the last access unit
}

func openMPEGTS(path string) (*clip, error) {
	d := &tsDemuxer{path: path}
	p, frames, last, err := d.probe()
	if err != nil {
		return nil, err
	}
	w, h, err := p.size()
	if err != nil {
		return nil, unsupported(path, err.Error())
	}
	d.frame = 100 * time.Millisecond
	if frames > 1 && last > 0 {
		d.frame = last / time.Duration(frames-1)
	}
	return &clip{
		name: clipName(path), path: path, params: p, width: w, height: h,
		frames: frames, length: last + d.frame, demux: d,
	}, nil
}

// probe reads the whole file once: it finds the first parameter sets, counts
// the access units from the first keyframe on and returns the last DTS.
func (d *tsDemuxer) probe() (params, int, time.Duration, error) {
	var p params
	frames := 0
	var last time.Duration
	err := d.read(context.Background(), &p, func(au accessUnit) error {
		frames++
		last = au.dts
		return nil
	})
	if err != nil {
		return p, 0, 0, err
	}
	if frames == 0 {
		return p, 0, 0, unsupported(d.path, "no keyframe with parameter sets found")
	}
	return p, frames, last, nil
}

// pass implements demuxer.
func (d *tsDemuxer) pass(ctx context.Context, fn func(accessUnit) error) error {
	var p params
	return d.read(ctx, &p, func(au accessUnit) error {
		au.dur = d.frame
		return fn(au)
	})
}

// read demuxes the file's first H.264/H.265 track. It fills p with the first
// parameter sets seen and calls fn from the first keyframe after them on.
func (d *tsDemuxer) read(ctx context.Context, p *params, fn func(accessUnit) error) error {
	f, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()

	r := &mpegts.Reader{R: bufio.NewReaderSize(f, 64*1024)}
	if err := r.Initialize(); err != nil {
		return unsupported(d.path, fmt.Sprintf("not a readable MPEG-TS file: %v", err))
	}
	var track *mpegts.Track
	other := ""
	for _, t := range r.Tracks() {
		switch t.Codec.(type) {
		case *mpegts.CodecH264:
			p.codec = media.H264
		case *mpegts.CodecH265:
			p.codec = media.H265
		default:
			if t.Codec.IsVideo() && other == "" {
				other = fmt.Sprintf("%T", t.Codec)
			}
			continue
		}
		track = t
		break
	}
	if track == nil {
		if other != "" {
			return unsupported(d.path, fmt.Sprintf("video codec %s is not H.264 or H.265", other))
		}
		return unsupported(d.path, "no video track")
	}
	if d.codec != 0 && d.codec != p.codec {
		return fmt.Errorf("replay: %s: codec changed from %v to %v since opened", d.path, d.codec, p.codec)
	}
	d.codec = p.codec

	var td mpegts.TimeDecoder
	started := false
	var base int64
	onAU := func(pts, dts int64, au [][]byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		dts = td.Decode(dts)
		pts = td.Decode(pts)
		p.learn(au)
		if !started {
			if !p.complete() || !p.isRandomAccess(au) {
				return nil
			}
			started, base = true, dts
		}
		return fn(accessUnit{
			dts:   fromTicks(dts-base, tsClock),
			pts:   fromTicks(pts-base, tsClock),
			nalus: au,
		})
	}
	if p.codec == media.H265 {
		r.OnDataH265(track, onAU)
	} else {
		r.OnDataH264(track, onAU)
	}
	for {
		err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// learn keeps the first parameter sets found in the stream.
func (p *params) learn(au [][]byte) {
	for _, n := range au {
		if len(n) < 2 {
			continue
		}
		if p.codec == media.H265 {
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				keepFirst(&p.vps, n)
			case h265.NALUType_SPS_NUT:
				keepFirst(&p.sps, n)
			case h265.NALUType_PPS_NUT:
				keepFirst(&p.pps, n)
			}
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			keepFirst(&p.sps, n)
		case h264.NALUTypePPS:
			keepFirst(&p.pps, n)
		}
	}
}

// keepFirst copies n into *dst unless a parameter set is already there (n
// belongs to the demuxer's buffer).
func keepFirst(dst *[]byte, n []byte) {
	if *dst == nil {
		*dst = append([]byte(nil), n...)
	}
}

// complete reports whether all parameter sets the codec needs are known.
func (p *params) complete() bool {
	if p.codec == media.H265 && p.vps == nil {
		return false
	}
	return p.sps != nil && p.pps != nil
}
