package verify_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
    purpose: corridor occupancy for fire safety
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
