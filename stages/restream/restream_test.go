package restream_test

import (
	"context"
	"errors"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/events"
	x264 "github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/zones"
)

const clip = "../../testvideos/vtest.mp4"

// privacy is the left quarter of the view, where vtest has a building and
// passers-by: plenty of non-black pixels for the raw stream to leak.
var privacy = privacycheck.Polygon{{0, 0}, {0.25, 0}, {0.25, 1}, {0, 1}}

type discard struct{}

func (discard) Offer(events.Message) bool { return true }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestRestreamIsMasked is the acceptance test: the ffmpeg CLI (not our code)
// plays the restream of a camera fed by the fake camera, and every picture
// it captured holds the fill colour in the privacy zone; the same check on a
// capture of the camera's own stream fails.
//
// Tolerance, because H.264 is lossy: the zone is shrunk by 8 px on every side
// (the size of a chroma block: 4:2:0 halves chroma, whose 4x4 transform then
// spans 8 luma px, so the mask's edge colours bleed that far), and each
// channel may differ from the fill by 24 of 255 inside it.
func TestRestreamIsMasked(t *testing.T) {
	testclip.Need(t)
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{clip}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	camURL := cam.URLs()[0]

	srv, err := restream.NewServer(restream.ServerConfig{Addr: "127.0.0.1:0", Username: "viewer", Password: "s3cret", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	path := srv.Path("lobby")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, enc, fan := encoderStage(t, "lobby", 15)
	units := fan.Add("restream", restream.QueueSize)
	encoded := make(chan media.AccessUnit, 1)
	src, err := ingest.New(ingest.Config{URL: camURL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	set := zones.NewSet([]zones.Zone{{ID: "shop", Kind: zones.Privacy, Polygon: zones.Polygon{{X: 0, Y: 0}, {X: 0.25, Y: 0}, {X: 0.25, Y: 1}, {X: 0, Y: 1}}}}, nil)
	pc, err := pipeline.NewCamera(pipeline.CameraConfig{
		Camera: "lobby", Source: src, Zones: set, Sink: discard{}, DetectFPS: 1, Detect: detect.Config{Width: 640},
		Outputs: []pipeline.Output{in}, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, run := range []func() error{
		func() error { return pc.Run(ctx) },
		func() error { defer in.Close(); return enc.Run(ctx, in.Frames(), encoded) },
		func() error { return fan.Run(ctx, encoded) },
		func() error { return path.Run(ctx, units) },
	} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run() }()
	}

	dir := t.TempDir()
	url := strings.Replace(srv.URL("lobby"), "rtsp://", "rtsp://viewer:s3cret@", 1)
	masked := capture(ctx, t, url, filepath.Join(dir, "masked.mp4"))
	raw := capture(ctx, t, camURL, filepath.Join(dir, "raw.mp4"))

	t.Run("wrong password refused", func(t *testing.T) {
		bad := strings.Replace(srv.URL("lobby"), "rtsp://", "rtsp://viewer:guess@", 1)
		out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rtsp_transport", "tcp", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "401") {
			t.Fatalf("ffprobe with a wrong password: err %v, output %q; want 401", err, out)
		}
	})
	// The camera sends 10 fps; encode.fps says 15 (the default). Players
	// must be told the camera's rate, in the SDP's SPS as in the timestamps.
	t.Run("frame rate follows the camera", func(t *testing.T) {
		// Only stdout: ffprobe joining mid-GOP logs "missing reference
		// picture" on stderr, which says nothing about the rate.
		cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=r_frame_rate,avg_frame_rate",
			"-of", "csv=p=0", url)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ffprobe: %v: %s%s", err, out, stderr.String())
		}
		if got := strings.TrimSpace(string(out)); got != "10/1,10/1" {
			t.Errorf("restream r_frame_rate,avg_frame_rate = %q, want 10/1,10/1 (the camera's)", got)
		}
		// A capture's average rate counts the frames it holds, fewer when
		// the encoder dropped some under load; its timestamps keep the rate.
		file, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", masked).CombinedOutput()
		if err != nil || strings.TrimSpace(string(file)) != "10/1" {
			t.Errorf("capture of the restream: r_frame_rate %q (%v), want 10/1", file, err)
		}
	})
	t.Run("unknown camera 404", func(t *testing.T) {
		u := strings.Replace(srv.URL("nope"), "rtsp://", "rtsp://viewer:s3cret@", 1)
		out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rtsp_transport", "tcp", u).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "404") {
			t.Fatalf("ffprobe of an unknown path: err %v, output %q; want 404", err, out)
		}
	})
	for _, c := range []struct {
		name     string
		file     string
		wantLeak bool
	}{
		{"restream capture passes", masked, false},
		{"raw camera capture fails", raw, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			frames, leaky := CheckVideo(t, c.file, []privacycheck.Polygon{privacy}, [3]uint8{}, 8, 24)
			t.Logf("%s: %d frames, %d with private pixels", filepath.Base(c.file), frames, leaky)
			// Under -race on a shared box the encoder drops some frames
			// (counted); a dozen pictures still prove the point.
			if frames < 12 {
				t.Fatalf("captured only %d frames", frames)
			}
			if got := leaky > 0; got != c.wantLeak {
				t.Errorf("%d of %d frames leak; want leak = %v", leaky, frames, c.wantLeak)
			}
		})
	}
	st := enc.Stats()
	t.Logf("encoder: %+v, input dropped %d, restream queue dropped %d", st, in.Dropped(), fan.Dropped("restream"))
	if st.Encoded == 0 || st.Failed != 0 {
		t.Errorf("encoder stats %+v", st)
	}
}

// encoderStage is a camera's encoder stage as edge run builds it, with the
// nominal rate fps.
func encoderStage(t testing.TB, camera string, fps float64) (*encode.Input, *encode.Encoder, *encode.Fanout) {
	t.Helper()
	enc, err := encode.New(encode.Config{Camera: camera, Encode: x264.Config{FPS: fps, BitrateKbps: 1500}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return encode.NewInput(quiet()), enc, encode.NewFanout(quiet())
}

// capture records 4 s of url with the ffmpeg CLI, retrying while the path
// has no picture yet (404).
func capture(ctx context.Context, t *testing.T, url, out string) string {
	t.Helper()
	var last []byte
	for ctx.Err() == nil {
		cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-nostdin", "-y", "-rtsp_transport", "tcp",
			"-i", url, "-t", "4", "-c", "copy", out)
		b, err := cmd.CombinedOutput()
		if err == nil {
			return out
		}
		last = b
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("ffmpeg could not capture %s: %s", url, last)
	return ""
}

// CheckVideo decodes path with OpenCV's own reader (not our decoder) and
// leak-checks every picture against polys shrunk by inset px, with a
// per-channel tolerance. It returns the frames read and how many leaked.
func CheckVideo(t *testing.T, path string, polys []privacycheck.Polygon, fill [3]uint8, inset int, tol uint8) (frames, leaky int) {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	cache := privacycheck.NewCache(polys)
	var px privacycheck.Pixels
	for vc.Read(&m) && !m.Empty() {
		if px.W != m.Cols() || px.H != m.Rows() {
			px = privacycheck.Interior(cache.Get(m.Cols(), m.Rows()), inset)
		}
		data, err := m.DataPtrUint8()
		if err != nil {
			t.Fatal(err)
		}
		res, err := privacycheck.Check(data, px, fill, tol)
		if err != nil {
			t.Fatal(err)
		}
		if res.Checked == 0 {
			t.Fatal(errors.New("shrunk zone is empty: nothing checked"))
		}
		frames++
		if res.Leaked > 0 {
			leaky++
		}
	}
	return frames, leaky
}

// TestNewServerRefuses: no address, or a username whose password is empty
// (which would let in anyone who knows the name), is refused before
// anything listens.
func TestNewServerRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  restream.ServerConfig
		want string
	}{
		{"no address", restream.ServerConfig{}, "restream.addr"},
		{"empty password", restream.ServerConfig{Addr: "127.0.0.1:0", Username: "viewer"}, "empty password"},
		{"password without username", restream.ServerConfig{Addr: "127.0.0.1:0", Password: "pw"}, "without user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := restream.NewServer(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewServer: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
