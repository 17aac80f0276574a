package verify_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/verify"
)

// The inspector's clips: real pedestrians (vtest.mp4, 2 s from 10 s in)
// at 320x240, masked by hand in ffmpeg as an exporter would, and judged in
// recording mode. The privacy zone spans x 0.40..0.90, y 0.25..0.60: at
// 320x240 its pixels are x 127..288, y 59..144 (every pixel touching the
// polygon), where people walk.
const (
	clipW, clipH = 320, 240
	clipFrames   = 20
	zoneX, zoneY = 127, 59
	zoneW, zoneH = 162, 86
	zonePoly     = "[[0.40, 0.25], [0.90, 0.25], [0.90, 0.60], [0.40, 0.60]]"
)

// writeConfig writes a config with one privacy zone (black fill) and a
// signed monitored zone beside it.
func writeConfig(t *testing.T, privacy string) string {
	t.Helper()
	cfg := `site: inspector
mqtt:
  broker: ""
cameras:
  - id: cam
    url: rtsp://127.0.0.1:8554/cam
    mask:
      color: [0, 0, 0]
    zones:
      - id: private
        kind: privacy
        polygon: ` + privacy + `
      - id: path
        kind: monitored
        signage: path-sign
        polygon: [[0, 0.65], [1, 0.65], [1, 1], [0, 1]]
signage:
  - id: path-sign
    text: "CCTV"
    location: path
    purpose: fire-safety
    purpose_detail: path occupancy
    operator: Inspector Ltd
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2030-01-01T00:00:00Z
`
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// source cuts the scene once per test into a lossless file, so each case
// pays only its own filter and encode.
func source(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "src.mkv")
	ffmpeg(t, "-ss", "10", "-i", "../../testvideos/vtest.mp4", "-frames:v", fmt.Sprint(clipFrames),
		"-vf", fmt.Sprintf("scale=%d:%d", clipW, clipH), "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", p)
	return p
}

func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// box is a drawbox filter over the zone grown by margin px on each side
// and trimmed by short px on its right edge; colour like "black@0.93".
func box(margin, short int, colour string) string {
	return fmt.Sprintf("drawbox=x=%d:y=%d:w=%d:h=%d:c=%s:t=fill", zoneX-margin, zoneY-margin, zoneW+2*margin-short, zoneH+2*margin, colour)
}

func recordingVerdict(t *testing.T, cfg, rec string) *verify.Report {
	t.Helper()
	rep, err := verify.Run(context.Background(), verify.Config{ConfigPath: cfg, Camera: "cam", Recording: rec, Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestContentLeaks is the inspector's series: every recoverable fill fails,
// every honest one passes.
func TestContentLeaks(t *testing.T) {
	src := source(t)
	cfg := writeConfig(t, zonePoly)
	lossy := func(crf int) []string {
		return []string{"-c:v", "libx264", "-crf", fmt.Sprint(crf), "-pix_fmt", "yuv420p", "-g", "10", "-bf", "0"}
	}
	lossless := []string{"-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p"}
	cases := []struct {
		name, filter string
		codec        []string
		want         string
		smallest     int // smallest leak width guaranteed, when PASS
	}{
		{"honest CRF 18, 2 px margin", box(2, 0, "black"), lossy(18), verify.Pass, 2},
		{"honest CRF 23, 2 px margin", box(2, 0, "black"), lossy(23), verify.Pass, 2},
		{"honest CRF 30, 2 px margin", box(2, 0, "black"), lossy(30), verify.Pass, 2},
		{"honest CRF 23, no margin", box(0, 0, "black"), lossy(23), verify.Pass, 2},
		{"honest CRF 30, no margin", box(0, 0, "black"), lossy(30), verify.Pass, 2},
		{"honest lossless", box(0, 0, "black"), lossless, verify.Pass, 2},
		{"opacity 0.80", box(2, 0, "black@0.80"), lossy(18), verify.Fail, 0},
		{"opacity 0.90", box(2, 0, "black@0.90"), lossy(18), verify.Fail, 0},
		{"opacity 0.93", box(2, 0, "black@0.93"), lossy(18), verify.Fail, 0},
		{"opacity 0.93 CRF 23", box(2, 0, "black@0.93"), lossy(23), verify.Fail, 0},
		{"opacity 0.97", box(2, 0, "black@0.97"), lossy(18), verify.Fail, 0},
		{"opacity 0.99", box(2, 0, "black@0.99"), lossy(18), verify.Fail, 0},
		{"lossless 1 px short", box(0, 1, "black"), lossless, verify.Fail, 0},
		{"lossless 2 px short", box(0, 2, "black"), lossless, verify.Fail, 0},
		{"lossless 3 px short", box(0, 3, "black"), lossless, verify.Fail, 0},
		{"lossless 4 px short", box(0, 4, "black"), lossless, verify.Fail, 0},
		{"lossy 2 px leak right, CRF 23", box(0, 2, "black"), lossy(23), verify.Fail, 0},
		{"lossy 2 px leak bottom, CRF 30", fmt.Sprintf("drawbox=x=%d:y=%d:w=%d:h=%d:c=black:t=fill", zoneX, zoneY, zoneW, zoneH-2), lossy(30), verify.Fail, 0},
		{"unmasked", "null", lossy(23), verify.Fail, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // one ffmpeg and one verify per case: two cases use both cores
			rec := filepath.Join(t.TempDir(), "rec.mp4")
			ffmpeg(t, append(append([]string{"-i", src, "-vf", tc.filter}, tc.codec...), rec)...)
			rep := recordingVerdict(t, cfg, rec)
			if rep.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s: %v; zones %+v", rep.Verdict, tc.want, rep.Reasons, rep.Zones[0].Privacy)
			}
			pc := rep.Zones[0].Privacy
			if pc.FramesChecked != clipFrames || pc.PixelsChecked != int64(clipFrames*zoneW*zoneH) {
				t.Errorf("checked %d frames, %d pixels; want %d frames of %d pixels", pc.FramesChecked, pc.PixelsChecked, clipFrames, zoneW*zoneH)
			}
			if tc.want == verify.Pass && pc.SmallestLeakPx != tc.smallest {
				t.Errorf("smallest leak guaranteed %d px, want %d", pc.SmallestLeakPx, tc.smallest)
			}
			if tc.want == verify.Fail && (len(rep.Leaks) == 0 || rep.Leaks[0].Zones[0] != "private") {
				t.Errorf("FAIL without a leak naming the zone: %+v", rep.Leaks)
			}
			t.Logf("%s: %d/%d frames leak, %d px (spatial %d, temporal %d, hard %d), noise %.1f, max deviation %d",
				rep.Verdict, pc.FramesLeaked, pc.FramesChecked, pc.LeakedPixels, pc.SpatialPixels, pc.TemporalPixels, pc.HardPixels, pc.MaxNoise, pc.MaxDeviation)
		})
	}
}

// TestNarrowZone: a zone too thin to judge is never a PASS. Masked, it is
// INCONCLUSIVE; unmasked, the edge test still fails it.
func TestNarrowZone(t *testing.T) {
	src := source(t)
	// x 0.50..0.53 at 320 px: pixels 159..169, 11 px wide, no core.
	cfg := writeConfig(t, "[[0.50, 0.25], [0.53, 0.25], [0.53, 0.60], [0.50, 0.60]]")
	codec := []string{"-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p"}
	cases := []struct{ name, filter, want string }{
		{"masked", "drawbox=x=157:y=57:w=15:h=90:c=black:t=fill", verify.Inconclusive},
		{"unmasked", "null", verify.Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "rec.mp4")
			ffmpeg(t, append(append([]string{"-i", src, "-vf", tc.filter}, codec...), rec)...)
			rep := recordingVerdict(t, cfg, rec)
			if rep.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s: %v %+v", rep.Verdict, tc.want, rep.Reasons, rep.Zones[0].Privacy)
			}
			if pc := rep.Zones[0].Privacy; pc.Verdict != tc.want || pc.Reason == "" {
				t.Errorf("zone verdict %s (%q), want %s with a reason", pc.Verdict, pc.Reason, tc.want)
			}
		})
	}
}

// TestNoPrivacyZone: with every privacy zone deleted from the config, an
// unmasked recording is INCONCLUSIVE, never PASS.
func TestNoPrivacyZone(t *testing.T) {
	src := source(t)
	p := writeConfig(t, zonePoly)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	zone := "      - id: private\n        kind: privacy\n        polygon: " + zonePoly + "\n"
	if !strings.Contains(string(b), zone) {
		t.Fatal("the privacy zone is not in the config as expected")
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), zone, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "rec.mp4")
	ffmpeg(t, "-i", src, "-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p", rec)
	rep := recordingVerdict(t, p, rec)
	if rep.Verdict != verify.Inconclusive || !strings.Contains(strings.Join(rep.Reasons, " "), "no privacy zone") {
		t.Fatalf("verdict %s %v, want INCONCLUSIVE naming the missing privacy zone", rep.Verdict, rep.Reasons)
	}
}

// TestEveryTrack: a masked default track and an unmasked second one fail.
func TestEveryTrack(t *testing.T) {
	src := source(t)
	cfg := writeConfig(t, zonePoly)
	dir := t.TempDir()
	masked, raw, both := filepath.Join(dir, "masked.mp4"), filepath.Join(dir, "raw.mp4"), filepath.Join(dir, "both.mp4")
	codec := []string{"-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p"}
	ffmpeg(t, append(append([]string{"-i", src, "-vf", box(2, 0, "black")}, codec...), masked)...)
	ffmpeg(t, append([]string{"-i", src}, append(codec, raw)...)...)
	ffmpeg(t, "-i", masked, "-i", raw, "-map", "0:v", "-map", "1:v", "-c", "copy", "-disposition:v:0", "default", "-disposition:v:1", "0", both)
	if rep := recordingVerdict(t, cfg, masked); rep.Verdict != verify.Pass {
		t.Fatalf("masked track alone: %s %v", rep.Verdict, rep.Reasons)
	}
	rep := recordingVerdict(t, cfg, both)
	if rep.Verdict != verify.Fail {
		t.Fatalf("two tracks, second unmasked: verdict %s, want FAIL: %v", rep.Verdict, rep.Reasons)
	}
	if len(rep.Tracks) != 2 || rep.Tracks[0].FramesChecked != clipFrames || rep.Tracks[1].FramesChecked != clipFrames {
		t.Fatalf("tracks %+v, want 2 of %d frames each", rep.Tracks, clipFrames)
	}
	if len(rep.Leaks) == 0 || rep.Leaks[0].Track != rep.Tracks[1].Index {
		t.Errorf("leaks %+v should name track %d", rep.Leaks, rep.Tracks[1].Index)
	}
}

// TestOwnLowBitrate: our own encoder at the lowest bitrate validation
// accepts (configs.MinEncodeBitrate) over an honestly masked 640x360
// picture passes. (At 100-400 kbit/s x264 drags picture into the fill and
// verify fails it: validation refuses those bitrates.)
func TestOwnLowBitrate(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, zonePoly)
	const w, h = 640, 360
	// The zone at 640x360: x 255..576, y 89..216.
	filter := fmt.Sprintf("scale=%d:%d,drawbox=x=255:y=89:w=322:h=128:c=black:t=fill", w, h)
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-ss", "10", "-i", "../../testvideos/vtest.mp4",
		"-frames:v", "30", "-vf", filter, "-f", "rawvideo", "-pix_fmt", "bgr24", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	enc, err := encode.New(encode.Config{Width: w, Height: h, FPS: 10, BitrateKbps: configs.MinEncodeBitrate})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var stream []byte
	buf := make([]byte, w*h*3)
	for n := 0; ; n++ {
		if _, err := io.ReadFull(out, buf); err != nil {
			break
		}
		pkts, err := enc.Encode(buf, w*3, time.Duration(n)*100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			stream = append(stream, p.Data...)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	pkts, err := enc.Flush()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		stream = append(stream, p.Data...)
	}
	es, rec := filepath.Join(dir, "rec.h264"), filepath.Join(dir, "rec.mp4")
	if err := os.WriteFile(es, stream, 0o644); err != nil {
		t.Fatal(err)
	}
	ffmpeg(t, "-f", "h264", "-framerate", "10", "-i", es, "-c", "copy", rec)
	rep := recordingVerdict(t, cfg, rec)
	if rep.Verdict != verify.Pass {
		t.Fatalf("own recording at the minimum bitrate: %s %v %+v", rep.Verdict, rep.Reasons, rep.Zones[0].Privacy)
	}
	if rep.FramesChecked != 30 {
		t.Errorf("checked %d frames, want 30", rep.FramesChecked)
	}
}

// TestEveryProgram: an MPEG-TS with two programs, the second unmasked,
// fails: every program's video is checked.
func TestEveryProgram(t *testing.T) {
	src := source(t)
	cfg := writeConfig(t, zonePoly)
	dir := t.TempDir()
	codec := []string{"-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "10", "-bf", "0"}
	masked, raw, ts := filepath.Join(dir, "masked.mp4"), filepath.Join(dir, "raw.mp4"), filepath.Join(dir, "two.ts")
	ffmpeg(t, append(append([]string{"-i", src, "-vf", box(2, 0, "black")}, codec...), masked)...)
	ffmpeg(t, append([]string{"-i", src}, append(codec, raw)...)...)
	ffmpeg(t, "-i", masked, "-i", raw, "-map", "0:v", "-map", "1:v", "-c", "copy",
		"-program", "title=lobby:st=0", "-program", "title=backdoor:st=1", "-f", "mpegts", ts)
	rep := recordingVerdict(t, cfg, ts)
	if rep.Verdict != verify.Fail || len(rep.Tracks) != 2 {
		t.Fatalf("two programs, second unmasked: verdict %s, tracks %+v: %v", rep.Verdict, rep.Tracks, rep.Reasons)
	}
	if rep.Leaks[0].Track != rep.Tracks[1].Index {
		t.Errorf("first leak in track %d, want the second program's %d", rep.Leaks[0].Track, rep.Tracks[1].Index)
	}
}

// TestTruncatedRecording: a recording cut short mid-frame is judged on what
// could be read and is never a PASS.
func TestTruncatedRecording(t *testing.T) {
	src := source(t)
	cfg := writeConfig(t, zonePoly)
	dir := t.TempDir()
	ts := filepath.Join(dir, "rec.ts")
	ffmpeg(t, "-i", src, "-vf", box(2, 0, "black"), "-c:v", "libx264", "-crf", "23", "-pix_fmt", "yuv420p", "-bf", "0", "-f", "mpegts", ts)
	if rep := recordingVerdict(t, cfg, ts); rep.Verdict != verify.Pass {
		t.Fatalf("whole recording: %s %v", rep.Verdict, rep.Reasons)
	}
	b, err := os.ReadFile(ts)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside a packet, and corrupt the payload of a middle packet.
	cut := b[:len(b)*2/3+77]
	for i := len(cut) / 3; i < len(cut)/3+2000 && i < len(cut); i++ {
		if i%188 > 8 {
			cut[i] ^= 0x5a
		}
	}
	bad := filepath.Join(dir, "cut.ts")
	if err := os.WriteFile(bad, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	rep := recordingVerdict(t, cfg, bad)
	if rep.Verdict == verify.Pass {
		t.Fatalf("a damaged recording passed: %+v", rep.Tracks)
	}
	t.Logf("%s: %v", rep.Verdict, rep.Reasons)
}
