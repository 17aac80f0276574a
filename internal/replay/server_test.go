package replay_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/replay"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// receiveFor is how long each client reads; at 10 fps it yields ~20 frames.
const receiveFor = 2 * time.Second

// start serves cfg on a free loopback port and closes it when the test ends.
func start(t *testing.T, cfg replay.Config) *replay.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := replay.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// frame is one access unit as a client received it.
type frame struct {
	ts    uint32
	nalus [][]byte
}

// session is what a client saw of one stream.
type session struct {
	forma  format.Format
	frames []frame
}

// play reads url for d over the given transport.
func play(t *testing.T, url string, transport gortsplib.Transport, d time.Duration) (*session, error) {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &transport, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	if err := c.Start2(); err != nil {
		return nil, err
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		return nil, err
	}
	if len(desc.Medias) != 1 || len(desc.Medias[0].Formats) != 1 {
		t.Fatalf("want one media with one format, got %+v", desc.Medias)
	}
	medi, forma := desc.Medias[0], desc.Medias[0].Formats[0]
	var decode func(*rtp.Packet) ([][]byte, error)
	switch f := forma.(type) {
	case *format.H264:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		decode = dec.Decode
	case *format.H265:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		decode = dec.Decode
	default:
		t.Fatalf("unexpected format %T", forma)
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		return nil, err
	}
	s := &session{forma: forma}
	var mu sync.Mutex
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		au, err := decode(pkt)
		if err != nil {
			return // incomplete access unit, or joined mid-frame
		}
		mu.Lock()
		s.frames = append(s.frames, frame{ts: pkt.Timestamp, nalus: au})
		mu.Unlock()
	})
	if _, err := c.Play(nil); err != nil {
		return nil, err
	}
	time.Sleep(d)
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	return s, nil
}

// size returns the picture size from the SDP's SPS.
func size(t *testing.T, f format.Format) (int, int) {
	t.Helper()
	switch f := f.(type) {
	case *format.H264:
		var sps h264.SPS
		if err := sps.Unmarshal(f.SPS); err != nil {
			t.Fatalf("SDP SPS: %v", err)
		}
		return sps.Width(), sps.Height()
	case *format.H265:
		var sps h265.SPS
		if err := sps.Unmarshal(f.SPS); err != nil {
			t.Fatalf("SDP SPS: %v", err)
		}
		return sps.Width(), sps.Height()
	}
	t.Fatalf("unexpected format %T", f)
	return 0, 0
}

// keyframeHasParams reports whether the access unit is a keyframe, and if so
// whether it carries its parameter sets.
func keyframeHasParams(f format.Format, au [][]byte) (key, withParams bool) {
	types := map[int]bool{}
	for _, n := range au {
		if _, ok := f.(*format.H265); ok {
			types[int(n[0]>>1)&0x3f] = true
		} else {
			types[int(n[0]&0x1f)] = true
		}
	}
	if _, ok := f.(*format.H265); ok {
		for t := 16; t <= 21; t++ {
			key = key || types[t]
		}
		return key, types[32] && types[33] && types[34]
	}
	return types[5], types[7] && types[8]
}

func TestServe(t *testing.T) {
	s := start(t, replay.Config{Paths: []string{
		"../../testvideos/vtest.mp4",
		"../../testvideos/synthetic-walk.mp4",
		"testdata", // tiny-h264.mp4, tiny-h265.mp4, tiny-ts.ts: 5 frames each, so they loop 4 times
	}})

	if got, want := len(s.URLs()), 5; got != want {
		t.Fatalf("URLs() = %v, want %d", s.URLs(), want)
	}
	for _, u := range s.URLs() {
		if !strings.HasPrefix(u, "rtsp://"+s.Addr()+"/") {
			t.Errorf("URL %q is not under rtsp://%s/", u, s.Addr())
		}
	}

	cases := []struct {
		name          string
		codec         string
		width, height int
	}{
		{"vtest", "H264", 768, 576},
		{"synthetic-walk", "H264", 640, 360},
		{"tiny-h264", "H264", 160, 120},
		{"tiny-h265", "H265", 160, 120},
		{"tiny-ts", "H264", 160, 120},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ses, err := play(t, "rtsp://"+s.Addr()+"/"+tc.name, gortsplib.TransportTCP, receiveFor)
			if err != nil {
				t.Fatalf("play: %v", err)
			}
			if got := ses.forma.Codec(); got != tc.codec {
				t.Errorf("codec = %s, want %s", got, tc.codec)
			}
			if w, h := size(t, ses.forma); w != tc.width || h != tc.height {
				t.Errorf("SPS size = %dx%d, want %dx%d", w, h, tc.width, tc.height)
			}
			// All clips are 10 fps: ~20 frames in 2 s; the bounds only catch
			// a stalled stream or one sent as fast as possible.
			if n := len(ses.frames); n < 5 || n > 60 {
				t.Errorf("received %d frames in %v, want about 20 (5..60)", n, receiveFor)
			}
			keys := 0
			for i, f := range ses.frames {
				key, params := keyframeHasParams(ses.forma, f.nalus)
				if key {
					keys++
					if !params {
						t.Errorf("frame %d: keyframe without parameter sets", i)
					}
				}
				if i == 0 {
					continue
				}
				// 10 fps is 9000 ticks at 90 kHz; one frame may be lost when
				// the client joins mid-frame. Across loops the step must not
				// change either.
				step := f.ts - ses.frames[i-1].ts
				if step < 8990 || step > 18010 {
					t.Errorf("frame %d: RTP timestamp step %d, want 9000 (10 fps)", i, step)
				}
			}
			if keys == 0 {
				t.Errorf("no keyframe in %d frames", len(ses.frames))
			}
			t.Logf("%d frames, %d keyframes in %v", len(ses.frames), keys, receiveFor)
		})
	}
}

func TestServeUnknownPath(t *testing.T) {
	s := start(t, replay.Config{Paths: []string{"testdata/tiny-h264.mp4"}})
	_, err := play(t, "rtsp://"+s.Addr()+"/nosuch", gortsplib.TransportTCP, 0)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("play unknown path: err = %v, want 404", err)
	}
}

func TestServeAuth(t *testing.T) {
	s := start(t, replay.Config{
		Paths:    []string{"testdata/tiny-h264.mp4"},
		Username: "inspector",
		Password: "s3cret",
	})
	for _, u := range s.URLs() {
		if strings.Contains(u, "s3cret") {
			t.Errorf("URL %q contains the password", u)
		}
	}
	cases := []struct {
		name    string
		user    string
		wantErr bool
	}{
		{"no credentials", "", true},
		{"wrong user", "inspecto:s3cret@", true},
		{"wrong password", "inspector:nope@", true},
		{"empty password", "inspector:@", true},
		{"right credentials", "inspector:s3cret@", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ses, err := play(t, "rtsp://"+tc.user+s.Addr()+"/tiny-h264", gortsplib.TransportTCP, 500*time.Millisecond)
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "401") {
					t.Fatalf("err = %v, want 401", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("play: %v", err)
			}
			if len(ses.frames) == 0 {
				t.Errorf("no frames received with valid credentials")
			}
		})
	}
	// ffmpeg answers the Digest challenge (it prefers Digest to Basic).
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatalf("ffprobe is needed (scripts/deps.sh installs it): %v", err)
	}
	for _, tc := range cases {
		t.Run("ffprobe "+tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries", "stream=codec_name",
				"-of", "csv=p=0", "rtsp://"+tc.user+s.Addr()+"/tiny-h264").CombinedOutput()
			if tc.wantErr {
				if err == nil || !strings.Contains(string(out), "401") {
					t.Fatalf("ffprobe: err %v, output %q; want 401", err, out)
				}
				return
			}
			if err != nil || !strings.Contains(string(out), "h264") {
				t.Fatalf("ffprobe with valid credentials: err %v, output %q", err, out)
			}
		})
	}
}

// freeUDPPair finds an even UDP port whose successor is free too, as RTP
// over UDP needs.
func freeUDPPair(t *testing.T) (int, bool) {
	t.Helper()
	for range 20 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, false
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		if port%2 != 0 || port > 65534 {
			continue
		}
		b, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)))
		if err != nil {
			continue
		}
		b.Close()
		return port, true
	}
	return 0, false
}

func TestServeUDP(t *testing.T) {
	port, ok := freeUDPPair(t)
	if !ok {
		t.Skip("no free even UDP port pair on 127.0.0.1")
	}
	s := start(t, replay.Config{
		Paths:          []string{"testdata/tiny-h264.mp4"},
		UDPRTPAddress:  "127.0.0.1:" + strconv.Itoa(port),
		UDPRTCPAddress: "127.0.0.1:" + strconv.Itoa(port+1),
	})
	ses, err := play(t, s.URLs()[0], gortsplib.TransportUDP, time.Second)
	if err != nil {
		t.Fatalf("play over UDP: %v", err)
	}
	if n := len(ses.frames); n < 3 || n > 30 {
		t.Errorf("received %d frames over UDP in 1 s, want about 10 (3..30)", n)
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	avi := write("cam.avi", "RIFF....AVI LIST")
	textMP4 := write("x.mp4", "this is not a video\n")
	textTS := write("y.ts", strings.Repeat("not a transport stream\n", 20))
	withAVI := filepath.Dir(write("withavi/clip.avi", "RIFF"))
	empty := filepath.Dir(write("empty/README.md", "no videos here"))
	dupA := write("a/same.mp4", "")
	dupB := write("b/same.mp4", "")
	copyFile(t, "testdata/tiny-h264.mp4", dupA)
	copyFile(t, "testdata/tiny-h264.mp4", dupB)
	truncated := filepath.Join(dir, "cut.mp4")
	copyFile(t, "testdata/tiny-h264.mp4", truncated)
	if st, err := os.Stat(truncated); err != nil || os.Truncate(truncated, st.Size()*6/10) != nil {
		t.Fatalf("truncate %s: %v", truncated, err)
	}

	cases := []struct {
		name        string
		paths       []string
		unsupported bool     // errors.Is(err, replay.ErrUnsupported)
		want        []string // substrings of the message
	}{
		{"avi file", []string{avi}, true, []string{avi, `".avi"`, "ffmpeg -i " + avi + " -c:v libx264"}},
		{"text named mp4", []string{textMP4}, true, []string{textMP4, "ffmpeg -i"}},
		{"text named ts", []string{textTS}, true, []string{textTS, "ffmpeg -i"}},
		{"mpeg4 part 2 in mp4", []string{"testdata/bad/mpeg4.mp4"}, true, []string{"mpeg4.mp4", `"mp4v"`, "not H.264 or H.265", "ffmpeg -i"}},
		{"avi in directory", []string{withAVI}, true, []string{"clip.avi", "ffmpeg -i"}},
		{"no videos", []string{empty}, false, []string{"no videos found"}},
		{"missing", []string{filepath.Join(dir, "nosuch.mp4")}, false, []string{"nosuch.mp4"}},
		{"no paths", nil, false, []string{"no paths"}},
		{"duplicate names", []string{dupA, dupB}, false, []string{"/same", "rename"}},
		{"truncated mp4", []string{truncated}, true, []string{truncated, "truncated", "ffmpeg -i"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: tc.paths})
			if err == nil {
				s.Close()
				t.Fatalf("New(%v) succeeded, want error", tc.paths)
			}
			if got := errors.Is(err, replay.ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v (err: %v)", got, tc.unsupported, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"testdata/tiny-h264.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // before Start
	if err := s.Start(); err == nil {
		t.Error("Start after Close succeeded, want error")
	}
	s.Close()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunStopsOnCancel checks the Run lifecycle: it serves until the context
// is cancelled, then disconnects clients and returns nil.
func TestRunStopsOnCancel(t *testing.T) {
	s, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"testdata/tiny-h264.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for s.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("server did not start listening within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, err := base.ParseURL(s.URLs()[0])
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.TransportTCP
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp}
	if err := c.Start2(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel")
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	select {
	case err := <-waitErr:
		if err == nil {
			t.Error("client Wait = nil, want the server's disconnect")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client was not disconnected within 10 s of Close")
	}
}
