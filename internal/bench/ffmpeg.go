package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ClipInfo is what ffprobe says of a clip.
type ClipInfo struct {
	Width  int     `json:"width"`
	Height int     `json:"height"`
	FPS    float64 `json:"fps"`
}

// probeClip asks ffprobe for the clip's first video stream.
func probeClip(ctx context.Context, clip string) (ClipInfo, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,avg_frame_rate", "-of", "csv=p=0", clip).Output()
	if err != nil {
		return ClipInfo{}, fmt.Errorf("bench: ffprobe %s: %w (install ffmpeg: scripts/deps.sh)", clip, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) < 3 {
		return ClipInfo{}, fmt.Errorf("bench: ffprobe %s said %q; want width,height,rate", clip, out)
	}
	var ci ClipInfo
	ci.Width, _ = strconv.Atoi(f[0])
	ci.Height, _ = strconv.Atoi(f[1])
	num, den, ok := strings.Cut(f[2], "/")
	n, _ := strconv.ParseFloat(num, 64)
	d := 1.0
	if ok {
		d, _ = strconv.ParseFloat(den, 64)
	}
	if d > 0 {
		ci.FPS = n / d
	}
	if ci.Width <= 0 || ci.Height <= 0 || !(ci.FPS > 0) {
		return ClipInfo{}, fmt.Errorf("bench: ffprobe %s said %q: no video size or frame rate", clip, out)
	}
	return ci, nil
}

var (
	ffmpegFrames = regexp.MustCompile(`frame=\s*(\d+)`)
	ffmpegRtime  = regexp.MustCompile(`rtime=([0-9.]+)s`)
	ffmpegCPU    = regexp.MustCompile(`utime=([0-9.]+)s stime=([0-9.]+)s`)
)

// ffmpegDecode is how many frames per second ffmpeg decodes the clip on one
// thread (`ffmpeg -threads 1 -i clip -f null -`), the yardstick beside the
// pipeline's decode and mask rate: per second of wall time, and per second
// of CPU time (which a loaded machine does not change as much). The clip is
// decoded at least once and for at least a second, so a short clip is timed
// over several passes.
func ffmpegDecode(ctx context.Context, clip string) (wallFPS, cpuFPS float64, err error) {
	var frames int
	var spent, cpu time.Duration
	for spent < time.Second {
		start := time.Now()
		out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-benchmark", "-threads", "1", "-i", clip,
			"-map", "0:v:0", "-f", "null", "-").CombinedOutput()
		if err != nil {
			return 0, 0, fmt.Errorf("bench: ffmpeg decode of %s: %w: %s", clip, err, tail(out))
		}
		took := time.Since(start)
		// -benchmark's rtime leaves out ffmpeg's own start-up.
		if r := ffmpegRtime.FindSubmatch(out); r != nil {
			if sec, err := strconv.ParseFloat(string(r[1]), 64); err == nil && sec > 0 {
				took = time.Duration(sec * float64(time.Second))
			}
		}
		spent += took
		if c := ffmpegCPU.FindSubmatch(out); c != nil {
			u, _ := strconv.ParseFloat(string(c[1]), 64)
			st, _ := strconv.ParseFloat(string(c[2]), 64)
			cpu += time.Duration((u + st) * float64(time.Second))
		}
		m := ffmpegFrames.FindAllSubmatch(out, -1)
		if len(m) == 0 {
			return 0, 0, fmt.Errorf("bench: ffmpeg decode of %s printed no frame count: %s", clip, tail(out))
		}
		n, _ := strconv.Atoi(string(m[len(m)-1][1]))
		if n == 0 {
			return 0, 0, errors.New("bench: ffmpeg decoded no frame of " + clip)
		}
		frames += n
	}
	wallFPS = float64(frames) / spent.Seconds()
	if cpu > 0 {
		cpuFPS = float64(frames) / cpu.Seconds()
	}
	return wallFPS, cpuFPS, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = "..." + s[len(s)-300:]
	}
	return s
}
