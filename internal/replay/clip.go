package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/edgeprivacy/edge/internal/media"
)

// ErrUnsupported is wrapped by every error about a file that replay cannot
// serve (container, codec or broken file), so callers can tell bad input from
// I/O failures.
var ErrUnsupported = errors.New("unsupported video")

// accessUnit is one coded picture read from a file, in decode order.
// Times are relative to the first keyframe of the file.
type accessUnit struct {
	dts   time.Duration
	pts   time.Duration
	dur   time.Duration // until the next access unit; nominal for MPEG-TS
	nalus [][]byte
}

// demuxer reads one pass of a file.
type demuxer interface {
	// pass reads the file from its first keyframe to its end and calls fn for
	// each access unit. It stops at the first error fn returns.
	pass(ctx context.Context, fn func(accessUnit) error) error
}

// params are the parameter sets of a clip, taken from the container.
type params struct {
	codec media.Codec
	vps   []byte // H.265 only
	sps   []byte
	pps   []byte
}

// clip is one file served as one RTSP path.
type clip struct {
	name   string
	path   string
	params params
	width  int
	height int
	frames int           // access units in one pass
	length time.Duration // one pass, used to shift timestamps on loop
	demux  demuxer
}

// format returns the RTP format announced in the SDP.
func (c *clip) format() format.Format {
	if c.params.codec == media.H265 {
		return &format.H265{PayloadTyp: 96, VPS: c.params.vps, SPS: c.params.sps, PPS: c.params.pps}
	}
	return &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: c.params.sps, PPS: c.params.pps}
}

// containers maps file extensions to demuxer openers.
var containers = map[string]func(path string) (*clip, error){
	".mp4":  openMP4,
	".m4v":  openMP4,
	".mov":  openMP4,
	".ts":   openMPEGTS,
	".mts":  openMPEGTS,
	".m2ts": openMPEGTS,
}

// knownVideo lists extensions of videos we recognise but cannot read, so a
// directory holding one fails loudly instead of silently serving less.
var knownVideo = map[string]bool{
	".avi": true, ".mkv": true, ".webm": true, ".flv": true, ".wmv": true,
	".mpg": true, ".mpeg": true, ".h264": true, ".264": true, ".h265": true,
	".hevc": true, ".mjpeg": true, ".3gp": true, ".ogv": true,
}

// fixHint is the command that turns any video into one replay can serve.
func fixHint(path string) string {
	out := strings.TrimSuffix(path, filepath.Ext(path)) + ".mp4"
	if out == path {
		out = strings.TrimSuffix(path, filepath.Ext(path)) + "-h264.mp4"
	}
	return fmt.Sprintf("convert it: ffmpeg -i %s -c:v libx264 -preset veryfast -g 20 -an %s", path, out)
}

// unsupported builds the error for a file replay cannot serve.
func unsupported(path, why string) error {
	return fmt.Errorf("replay: %s: %w: %s (want MP4/MOV or MPEG-TS with H.264 or H.265); %s",
		path, ErrUnsupported, why, fixHint(path))
}

// scan opens every video under paths. Files named explicitly must be
// supported; in directories (not recursive) other files such as README.md or
// ground-truth JSON are skipped, but videos in other containers are errors.
func scan(paths []string) ([]*clip, error) {
	if len(paths) == 0 {
		return nil, errors.New("replay: no paths given; pass video files or directories (e.g. testvideos/)")
	}
	var clips []*clip
	byName := map[string]string{}
	add := func(path string) error {
		open, ok := containers[strings.ToLower(filepath.Ext(path))]
		if !ok {
			return unsupported(path, fmt.Sprintf("container %q not supported", filepath.Ext(path)))
		}
		c, err := open(path)
		if err != nil {
			return err
		}
		if prev, dup := byName[c.name]; dup {
			return fmt.Errorf("replay: %s and %s would both be served as /%s; rename one", prev, path, c.name)
		}
		byName[c.name] = path
		clips = append(clips, c)
		return nil
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if !st.IsDir() {
			if err := add(p); err != nil {
				return nil, err
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("replay: read directory: %w", err)
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if _, ok := containers[ext]; !ok && !knownVideo[ext] {
				continue
			}
			if err := add(filepath.Join(p, e.Name())); err != nil {
				return nil, err
			}
		}
	}
	if len(clips) == 0 {
		return nil, fmt.Errorf("replay: no videos found in %s; want .mp4, .mov or .ts files",
			strings.Join(paths, ", "))
	}
	sort.Slice(clips, func(i, j int) bool { return clips[i].name < clips[j].name })
	return clips, nil
}

// clipName is the RTSP path a file is served under.
func clipName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// size reads the picture size from the SPS, also validating it: a clip whose
// SPS does not parse would fail in every decoder downstream.
func (p params) size() (int, int, error) {
	switch p.codec {
	case media.H264:
		var s h264.SPS
		if err := s.Unmarshal(p.sps); err != nil {
			return 0, 0, fmt.Errorf("H.264 SPS: %w", err)
		}
		return s.Width(), s.Height(), nil
	case media.H265:
		var s h265.SPS
		if err := s.Unmarshal(p.sps); err != nil {
			return 0, 0, fmt.Errorf("H.265 SPS: %w", err)
		}
		return s.Width(), s.Height(), nil
	}
	return 0, 0, errors.New("no codec")
}

// prepare readies an access unit for RTP: it drops empty NALUs and access
// unit delimiters (cameras do not send them) and puts the parameter sets in
// front of every keyframe that lacks them, so a client can start there.
func (p params) prepare(nalus [][]byte) [][]byte {
	out := make([][]byte, 0, len(nalus)+3)
	hasSPS, random := false, false
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		if p.codec == media.H265 {
			if len(n) < 2 {
				continue
			}
			switch t := h265.NALUType((n[0] >> 1) & 0x3f); t {
			case h265.NALUType_AUD_NUT:
				continue
			case h265.NALUType_SPS_NUT:
				hasSPS = true
			default:
				// IRAP pictures (BLA, IDR, CRA) are types 16 to 21.
				if t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT {
					random = true
				}
			}
		} else {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			case h264.NALUTypeSPS:
				hasSPS = true
			case h264.NALUTypeIDR:
				random = true
			}
		}
		out = append(out, n)
	}
	if random && !hasSPS {
		var ps [][]byte
		if p.codec == media.H265 {
			ps = append(ps, p.vps)
		}
		ps = append(ps, p.sps, p.pps)
		out = append(ps, out...)
	}
	return out
}

// isRandomAccess reports whether an access unit starts a decodable sequence.
func (p params) isRandomAccess(nalus [][]byte) bool {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		if p.codec == media.H265 {
			t := h265.NALUType((n[0] >> 1) & 0x3f)
			if t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT {
				return true
			}
		} else if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
			return true
		}
	}
	return false
}

// ticks converts a duration to units of a clock rate without overflowing
// for long runs.
func ticks(d time.Duration, rate int64) int64 {
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*rate + rem*rate/int64(time.Second)
}

// fromTicks converts units of a clock rate to a duration.
func fromTicks(v int64, rate int64) time.Duration {
	return time.Duration(v/rate)*time.Second + time.Duration(v%rate)*time.Second/time.Duration(rate)
}
