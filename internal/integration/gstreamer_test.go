package integration_test

import (
	"bufio"
	"image"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/ingest"
)

const gstScript = "../../scripts/gst-rtsp-server.py"

// gstPython returns a python3 that can import GStreamer's RTSP server
// bindings, or skips the test saying what to install. Debian's python3-gi
// serves /usr/bin/python3 only, so that one is preferred over a pyenv or
// venv python3 earlier on PATH.
func gstPython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("GStreamer interop skipped: no python3; run scripts/deps.sh (python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-*)")
		}
	}
	const check = `import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [e for e in ("videotestsrc", "x264enc", "rtph264pay", "qtdemux", "h264parse") if Gst.ElementFactory.find(e) is None]
if missing:
    raise SystemExit("GStreamer elements missing: " + " ".join(missing))
`
	if out, err := exec.Command(py, "-c", check).CombinedOutput(); err != nil {
		t.Skipf("GStreamer interop skipped: %s cannot run GStreamer's RTSP server (%v: %s); "+
			"run scripts/deps.sh (gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base/good/ugly)",
			py, err, strings.TrimSpace(string(out)))
	}
	return py
}

// startGst runs scripts/gst-rtsp-server.py with args on a free port and
// returns the stream's URL once it prints READY. The server is stopped with
// SIGTERM when the test ends.
func startGst(t *testing.T, py string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, append([]string{gstScript, "--port", "0"}, args...)...)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", gstScript, err)
	}
	exited := make(chan struct{})
	go func() {
		// Wait closes stdout, which ends the scanner below.
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Errorf("GStreamer server ignored SIGTERM for 5 s; killing it")
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- url
			}
		}
	}()
	select {
	case url := <-ready:
		return url
	case <-exited:
		t.Fatalf("GStreamer server exited before READY: %s", stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("GStreamer server not READY within 15 s: %s", stderr.String())
	}
	return ""
}

// TestGStreamerInterop plays streams from GStreamer's RTSP server
// (gst-rtsp-server), an RTSP and RTP stack we did not write, through ingest
// and decode: a live x264 test pattern over TCP and UDP, and an MP4 file.
func TestGStreamerInterop(t *testing.T) {
	t.Parallel()
	py := gstPython(t)
	needFile(t, syntheticClip)
	pattern := startGst(t, py, "--mount", "/pattern", "--width", "640", "--height", "480", "--fps", "15")
	file := startGst(t, py, "--mount", "/file", "--file", syntheticClip)

	cases := []struct {
		name, url, transport string
		frames               int
		width, height        int
		fps                  float64
	}{
		{"pattern/tcp", pattern, "tcp", 50, 640, 480, 15},
		{"pattern/udp", pattern, "udp", 50, 640, 480, 15},
		{"file/tcp", file, "tcp", 30, 640, 360, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startPipe(t, ingest.Config{URL: tc.url, Transport: tc.transport})
			start := time.Now()
			var first, last time.Duration
			wrongSize := 0
			var ptss []time.Duration
			for n := range tc.frames {
				f := p.next(t, 10*time.Second)
				if f.Pic.Size() != image.Pt(tc.width, tc.height) {
					wrongSize++
				}
				if n == 0 {
					first = f.PTS
				}
				last = f.PTS
				ptss = append(ptss, f.PTS)
				f.Close()
			}
			elapsed := time.Since(start)
			p.stop(t)

			st, is, ds := p.ing.State(), p.ing.Stats(), p.dec.Stats()
			// PTS comes from GStreamer's RTP timestamps: the frame interval
			// must match the announced rate.
			fps := float64(tc.frames-1) / (last - first).Seconds()
			t.Logf("%s: %d frames in %v, %s %dx%d, %.2f fps by PTS; ingest %+v; decode %+v",
				tc.url, tc.frames, elapsed.Round(time.Millisecond), st.Codec, ds.Width, ds.Height, fps, is, ds)
			if st.Codec != media.H264 {
				t.Errorf("codec %v, want H.264", st.Codec)
			}
			if st.Width != tc.width || st.Height != tc.height || ds.Width != tc.width || ds.Height != tc.height || wrongSize > 0 {
				t.Errorf("size: ingest %dx%d, decode %dx%d, %d frames of another size; want %dx%d",
					st.Width, st.Height, ds.Width, ds.Height, wrongSize, tc.width, tc.height)
			}
			if fps < 0.9*tc.fps || fps > 1.1*tc.fps {
				t.Errorf("%.2f fps by PTS, want %v; PTS %v", fps, tc.fps, ptss)
			}
			if ds.Errors != 0 || is.DecodeErrors != 0 {
				t.Errorf("errors on a clean stream: ingest %d, decode %d", is.DecodeErrors, ds.Errors)
			}
		})
	}
}
