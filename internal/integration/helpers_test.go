package integration_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// Checked-in clips, relative to this package.
const (
	syntheticClip = "../../testvideos/synthetic-walk.mp4" // 80 frames, 10 fps, 640x360
	vtestClip     = "../../testvideos/vtest.mp4"          // 450 frames, 10 fps, 768x576
)

// pipe is the production front of one camera: ingest feeding decode through
// bounded channels, as pipeline/ wires them.
type pipe struct {
	ing    *ingest.Ingest
	dec    *decode.Decoder
	frames chan decode.Frame
	cancel context.CancelFunc
	done   chan error // one result per stage
	once   sync.Once
	logs   *syncbuf.Buffer
}

// startPipe starts ingest and decode for cfg; the test stops it (or its
// cleanup does). Stage logs are kept and printed if the test fails.
func startPipe(t *testing.T, cfg ingest.Config) *pipe {
	t.Helper()
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Logger == nil {
		cfg.Logger = log
	}
	ing, err := ingest.New(cfg)
	if err != nil {
		t.Fatalf("ingest.New: %v", err)
	}
	dec, err := decode.New(decode.Config{Logger: log})
	if err != nil {
		t.Fatalf("decode.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipe{ing: ing, dec: dec, frames: make(chan decode.Frame, 4), cancel: cancel,
		done: make(chan error, 2), logs: logs}
	aus := make(chan media.AccessUnit, 8)
	go func() { p.done <- ing.Run(ctx, aus) }()
	go func() { p.done <- dec.Run(ctx, aus, p.frames) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("stage logs:\n%s", logs.String())
		}
	})
	return p
}

// next returns the next decoded frame; the caller closes its picture. It fails
// the test after d.
func (p *pipe) next(t *testing.T, d time.Duration) decode.Frame {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case f, ok := <-p.frames:
		if !ok {
			t.Fatalf("decode output closed early; %s", p.status())
		}
		return f
	case <-timer.C:
		t.Fatalf("no frame within %v; %s", d, p.status())
	}
	return decode.Frame{}
}

func (p *pipe) status() string {
	return fmt.Sprintf("ingest state %+v, ingest stats %+v, decode stats %+v",
		p.ing.State(), p.ing.Stats(), p.dec.Stats())
}

// stop cancels both stages, closes the frames still in flight and waits
// for both Run calls, which must return nil or context.Canceled.
func (p *pipe) stop(t *testing.T) {
	t.Helper()
	p.once.Do(func() {
		p.cancel()
		timeout := time.After(10 * time.Second)
		for open := true; open; {
			select {
			case f, ok := <-p.frames:
				if !ok {
					open = false
					break
				}
				f.Close()
			case <-timeout:
				t.Errorf("decode did not close its output within 10 s of cancel")
				return
			}
		}
		for range 2 {
			select {
			case err := <-p.done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("stage Run after cancel = %v, want nil or context.Canceled", err)
				}
			case <-timeout:
				t.Errorf("a stage did not return within 10 s of cancel")
				return
			}
		}
	})
}

// clipInfo is what ffprobe says about a clip's video stream.
type clipInfo struct {
	frames        int // pictures ffprobe decodes
	width, height int
	fps           float64
}

// probe runs ffprobe on path (skipping the test where ffmpeg is missing).
func probe(t *testing.T, path string) clipInfo {
	t.Helper()
	testclip.Need(t)
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,r_frame_rate", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	f := strings.Split(strings.TrimSpace(string(out)), ",")
	if len(f) != 3 {
		t.Fatalf("ffprobe %s: unexpected output %q", path, out)
	}
	var ci clipInfo
	ci.width, _ = strconv.Atoi(f[0])
	ci.height, _ = strconv.Atoi(f[1])
	num, den, _ := strings.Cut(f[2], "/")
	n, _ := strconv.ParseFloat(num, 64)
	d, _ := strconv.ParseFloat(den, 64)
	if d == 0 || n == 0 || ci.width == 0 || ci.height == 0 {
		t.Fatalf("ffprobe %s: unexpected output %q", path, out)
	}
	ci.fps = n / d
	ci.frames = testclip.CountFrames(t, path)
	return ci
}

// ffmpeg runs the ffmpeg CLI (skipping the test where it is missing).
func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	testclip.Need(t)
	cmd := exec.Command("ffmpeg", append([]string{"-v", "error", "-nostdin", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// vtestCut returns a copy of the first secs seconds of vtest.mp4 (cut at a
// keyframe, no re-encoding) in a temp dir, named name.mp4.
func vtestCut(t *testing.T, name string, secs int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".mp4")
	ffmpeg(t, "-i", vtestClip, "-t", strconv.Itoa(secs), "-c", "copy", "-an", "-movflags", "+faststart", out)
	return out
}

// needFile skips the test when a checked-in or system file is missing.
func needFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s missing (see testvideos/README.md and scripts/deps.sh): %v", path, err)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
