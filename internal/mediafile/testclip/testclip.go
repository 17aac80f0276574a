// Package testclip makes short real video clips with the ffmpeg CLI for
// tests and benchmarks, from the sample video Debian's opencv-doc ships.
// Clips are cached in the system temp dir keyed by their ffmpeg arguments,
// so repeated test runs and parallel packages do not transcode again.
package testclip

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Source is the sample video (768x576, 10 fps, MS-MPEG4v3 in AVI).
const Source = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// Need skips tb when ffmpeg, ffprobe or the sample video are missing.
func Need(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s not installed (run scripts/deps.sh): %v", tool, err)
		}
	}
	if _, err := os.Stat(Source); err != nil {
		tb.Skipf("sample video missing (install opencv-doc via scripts/deps.sh): %v", err)
	}
}

// Make transcodes Source with ffmpeg output options args into a file with
// extension ext (".mp4", ".ts", ...) and returns its path.
func Make(tb testing.TB, ext string, args ...string) string {
	tb.Helper()
	Need(tb)
	h := sha256.Sum256([]byte(strings.Join(append([]string{Source, ext}, args...), "\x00")))
	dir := filepath.Join(os.TempDir(), "edge-testclips")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, hex.EncodeToString(h[:8])+ext)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid()) + ext
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y", "-i", Source}, args...), tmp)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		tb.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	// Rename is atomic: a parallel run sees either no clip or a whole one.
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// HasEncoder reports whether ffmpeg can encode with name (e.g. "libx265").
func HasEncoder(name string) bool {
	out, err := exec.Command("ffmpeg", "-hide_banner", "-encoders").Output()
	return err == nil && strings.Contains(string(out), " "+name+" ")
}

// CountFrames returns the number of pictures ffprobe decodes from path.
func CountFrames(tb testing.TB, path string) int {
	tb.Helper()
	return probeInt(tb, path, "-count_frames", "stream=nb_read_frames")
}

// CountPackets returns the number of video packets ffprobe reads from path.
func CountPackets(tb testing.TB, path string) int {
	tb.Helper()
	return probeInt(tb, path, "-count_packets", "stream=nb_read_packets")
}

func probeInt(tb testing.TB, path, flag, entry string) int {
	tb.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", flag, "-select_streams", "v:0",
		"-show_entries", entry, "-of", "csv=p=0", path).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", path, err)
	}
	// MPEG-TS adds a program section that repeats the stream's line.
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		tb.Fatalf("ffprobe %s: %q: %v", path, out, err)
	}
	return n
}

// Size returns the width x height ffprobe reads from path's video header.
func Size(tb testing.TB, path string) string {
	tb.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", path).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", path, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return first
}
