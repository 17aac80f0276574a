package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/stages/ingest"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ingest-clips")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = makeClips(dir)
	os.RemoveAll(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// running is an Ingest whose Run goroutine the test controls.
type running struct {
	ing    *ingest.Ingest
	out    chan media.AccessUnit
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg ingest.Config, outCap int) *running {
	t.Helper()
	ing, err := ingest.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{ing: ing, out: make(chan media.AccessUnit, outCap), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- ing.Run(ctx, r.out) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and checks that it returns promptly, with nil, and
// closes its output.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if !ok {
			return
		}
		close(r.done)
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel")
	}
	for range r.out { // must be closed, else this hangs and the test times out
	}
}

// next returns the next access unit or fails after d.
func (r *running) next(t *testing.T, d time.Duration) media.AccessUnit {
	t.Helper()
	select {
	case au, ok := <-r.out:
		if !ok {
			t.Fatal("output closed early")
		}
		return au
	case <-time.After(d):
		t.Fatalf("no access unit within %v; state %+v stats %+v", d, r.ing.State(), r.ing.Stats())
	}
	return media.AccessUnit{}
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&syncbuf.Buffer{}, nil))
}

func naluTypes(c media.Codec, au media.AccessUnit) []int {
	var ts []int
	for _, n := range au.NALUs {
		if c == media.H264 {
			ts = append(ts, int(n[0]&0x1f))
		} else {
			ts = append(ts, int((n[0]>>1)&0x3f))
		}
	}
	return ts
}

func TestReceive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		opts   cameraOpts
		params []int // NALU types a keyframe must start with
		key    func(int) bool
	}{
		{"h264 tcp params in sdp", cameraOpts{sdpParams: true}, []int{7, 8}, func(t int) bool { return t == 5 }},
		{"h264 tcp params in band", cameraOpts{}, []int{7, 8}, func(t int) bool { return t == 5 }},
		{"h264 udp", cameraOpts{udp: true, sdpParams: true}, []int{7, 8}, func(t int) bool { return t == 5 }},
		{"h265 tcp params in sdp", cameraOpts{codec: media.H265, sdpParams: true}, []int{32, 33, 34}, func(t int) bool { return t >= 16 && t <= 21 }},
		{"h265 tcp params in band", cameraOpts{codec: media.H265}, []int{32, 33, 34}, func(t int) bool { return t >= 16 && t <= 21 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cam := startCamera(t, tc.opts)
			transport := "tcp"
			if tc.opts.udp {
				transport = "udp"
			}
			want := tc.opts.codec
			if want == 0 {
				want = media.H264
			}
			r := start(t, ingest.Config{URL: cam.url("", ""), Transport: transport, Logger: quietLogger()}, 64)
			var prev media.AccessUnit
			keyframes := 0
			for n := 0; n < 25; n++ {
				au := r.next(t, 10*time.Second)
				if au.Codec != want {
					t.Fatalf("AU %d codec %v, want %v", n, au.Codec, want)
				}
				types := naluTypes(want, au)
				hasKey := false
				for _, ty := range types {
					hasKey = hasKey || tc.key(ty)
				}
				if n == 0 && !au.Keyframe {
					t.Fatalf("first AU is not a keyframe (types %v): a decoder cannot start there", types)
				}
				if au.Keyframe != hasKey {
					t.Fatalf("AU %d Keyframe=%v but NALU types %v", n, au.Keyframe, types)
				}
				if au.Keyframe {
					keyframes++
					if len(types) <= len(tc.params) || fmt.Sprint(types[:len(tc.params)]) != fmt.Sprint(tc.params) {
						t.Fatalf("keyframe %d NALU types %v, want parameter sets %v first", n, types, tc.params)
					}
				}
				if n > 0 {
					if d := au.PTS - prev.PTS; d < 90*time.Millisecond || d > 110*time.Millisecond {
						t.Fatalf("PTS step %v between AUs %d and %d, want 100 ms", d, n-1, n)
					}
				}
				if au.Received.IsZero() {
					t.Fatal("Received not set")
				}
				prev = au
			}
			if keyframes < 2 {
				t.Errorf("%d keyframes in 25 AUs with a GOP of 10", keyframes)
			}
			st := r.ing.State()
			if st.Status != ingest.StatusStreaming || st.Codec != want || st.Width != 320 || st.Height != 240 {
				t.Errorf("State = %+v, want streaming %v 320x240", st, want)
			}
			// Delivered is counted just after the hand-over, so the unit
			// read last may not be counted yet.
			if s := r.ing.Stats(); s.Received < 25 || s.Delivered < 24 || s.Bytes == 0 || s.Dropped != 0 {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}

func TestReconnectAfterCameraRestart(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, cameraOpts{})
	logs := &syncbuf.Buffer{}
	r := start(t, ingest.Config{
		URL: cam.url("", ""), BackoffMin: 100 * time.Millisecond, BackoffMax: time.Second,
		StallTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}, 64)
	r.next(t, 10*time.Second)

	cam.close()
	deadline := time.Now().Add(10 * time.Second)
	for r.ing.State().Status == ingest.StatusStreaming {
		if time.Now().After(deadline) {
			t.Fatal("state still streaming 10 s after the camera went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // let a few reconnects fail
	if st := r.ing.State(); st.Status == ingest.StatusStreaming || st.Reason == "" {
		t.Errorf("State while camera down = %+v, want a failure reason", st)
	}

	restarted := time.Now()
	startCamera(t, cameraOpts{addr: cam.addr})
	for {
		au := r.next(t, 10*time.Second)
		if au.Received.After(restarted) {
			if lag := au.Received.Sub(restarted); lag > 5*time.Second {
				t.Errorf("first AU %v after the camera returned, want < 5 s", lag)
			}
			if !au.Keyframe {
				t.Error("first AU after reconnect is not a keyframe")
			}
			break
		}
	}
	if s := r.ing.Stats(); s.Reconnects < 1 {
		t.Errorf("Reconnects = %d, want >= 1", s.Reconnects)
	}
	if n := strings.Count(logs.String(), "reconnecting"); n < 1 {
		t.Errorf("failure not logged:\n%s", logs)
	}
}

func TestStalledStreamReconnects(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, cameraOpts{silent: true})
	r := start(t, ingest.Config{URL: cam.url("", ""), StallTimeout: 500 * time.Millisecond,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Logger: quietLogger()}, 1)
	deadline := time.Now().Add(10 * time.Second)
	for r.ing.Stats().Reconnects < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("silent stream not reconnected; state %+v", r.ing.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := r.ing.State(); !strings.Contains(st.Reason, "stalled") {
		t.Errorf("Reason = %q, want it to say the stream stalled", st.Reason)
	}
}

func TestGarbagePayloads(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, cameraOpts{garbage: true})
	r := start(t, ingest.Config{URL: cam.url("", ""), Logger: quietLogger()}, 1024)
	deadline := time.Now().Add(10 * time.Second)
	for r.ing.Stats().DecodeErrors < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("no decode errors counted from random payloads; stats %+v", r.ing.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.stop(t)
	for au := range r.out {
		for _, n := range au.NALUs {
			if len(n) == 0 {
				t.Fatal("empty NALU emitted")
			}
		}
	}
}

func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	t.Run("never reads", func(t *testing.T) {
		t.Parallel()
		cam := startCamera(t, cameraOpts{})
		r := start(t, ingest.Config{URL: cam.url("", ""), BufferSize: 2, Logger: quietLogger()}, 0)
		deadline := time.Now().Add(10 * time.Second)
		for r.ing.Stats().Dropped < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("no drops with a consumer that never reads; stats %+v", r.ing.Stats())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The session must still be healthy: the reader was never blocked.
		if st := r.ing.State(); st.Status != ingest.StatusStreaming {
			t.Errorf("State = %+v, want streaming", st)
		}
		r.stop(t) // fails if Run is stuck on the full channel
	})
	t.Run("resumes at a keyframe", func(t *testing.T) {
		t.Parallel()
		cam := startCamera(t, cameraOpts{})
		r := start(t, ingest.Config{URL: cam.url("", ""), BufferSize: 2, Logger: quietLogger()}, 0)
		prev := r.next(t, 10*time.Second)
		time.Sleep(2500 * time.Millisecond) // 25 frames arrive; 3 fit
		gaps := 0
		for n := 0; n < 30; n++ {
			au := r.next(t, 5*time.Second)
			if au.PTS-prev.PTS > 150*time.Millisecond {
				gaps++
				if !au.Keyframe {
					t.Fatalf("first AU after a gap (%v -> %v) is not a keyframe", prev.PTS, au.PTS)
				}
			}
			prev = au
		}
		if gaps == 0 {
			t.Error("no gap in PTS after pausing the consumer: nothing was dropped?")
		}
		if s := r.ing.Stats(); s.Dropped == 0 {
			t.Errorf("Dropped = 0 after a paused consumer; stats %+v", s)
		}
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const user, pass = "viewer", "S3cret-Pa55"
	cam := startCamera(t, cameraOpts{user: user, pass: pass})

	t.Run("right password streams", func(t *testing.T) {
		t.Parallel()
		r := start(t, ingest.Config{URL: cam.url(user, pass), Logger: quietLogger()}, 8)
		r.next(t, 10*time.Second)
	})

	for _, tc := range []struct{ name, url, secret string }{
		{"wrong password", cam.url(user, "wrong-Pa55word"), "wrong-Pa55word"},
		{"no credentials", cam.url("", ""), ""},
	} {
		t.Run(tc.name+" once", func(t *testing.T) {
			t.Parallel()
			logs := &syncbuf.Buffer{}
			ing, err := ingest.New(ingest.Config{URL: tc.url, Once: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan media.AccessUnit, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = ing.Run(ctx, out)
			if !errors.Is(err, ingest.ErrUnauthorized) {
				t.Fatalf("Run = %v, want ErrUnauthorized", err)
			}
			if _, open := <-out; open {
				t.Error("output not closed")
			}
			if !strings.Contains(err.Error(), "username/password") {
				t.Errorf("error %q does not tell the operator what to fix", err)
			}
			for what, text := range map[string]string{"error": err.Error(), "reason": ing.State().Reason, "log": logs.String()} {
				if tc.secret != "" && strings.Contains(text, tc.secret) {
					t.Errorf("password leaked into the %s: %s", what, text)
				}
			}
			if tc.secret != "" && !strings.Contains(logs.String(), "***@") {
				t.Errorf("log does not show the redacted URL:\n%s", logs)
			}
		})
	}

	t.Run("wrong password retried, logged once", func(t *testing.T) {
		t.Parallel()
		logs := &syncbuf.Buffer{}
		bad := "Wr0ng-Secret"
		r := start(t, ingest.Config{URL: cam.url(user, bad), BackoffMin: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, 1)
		deadline := time.Now().Add(10 * time.Second)
		for r.ing.Stats().Reconnects < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("not retrying; state %+v", r.ing.State())
			}
			time.Sleep(10 * time.Millisecond)
		}
		st := r.ing.State()
		if !strings.Contains(st.Reason, "401") || strings.Contains(st.Reason, bad) {
			t.Errorf("Reason = %q, want 401 and no password", st.Reason)
		}
		r.stop(t)
		text := logs.String()
		if strings.Contains(text, bad) {
			t.Errorf("password in logs:\n%s", text)
		}
		if n := strings.Count(text, "level=WARN"); n != 1 {
			t.Errorf("%d warnings for one repeating failure, want 1:\n%s", n, text)
		}
	})
}

func TestFirstConnectErrors(t *testing.T) {
	t.Parallel()
	closedAddr := func() string { // a port nobody listens on
		c := startCamera(t, cameraOpts{silent: true})
		c.close()
		return "rtsp://" + c.addr + "/cam"
	}
	cases := []struct {
		name string
		url  func() string
		want error
	}{
		{"refused", closedAddr, ingest.ErrUnreachable},
		{"not found", func() string { return startCamera(t, cameraOpts{notFound: true}).url("", "") }, ingest.ErrNotFound},
		{"audio only", func() string {
			return startCamera(t, cameraOpts{medias: []*description.Media{{Type: description.MediaTypeAudio,
				Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}}}}}).url("", "")
		}, ingest.ErrNoVideoTrack},
		{"mjpeg", func() string {
			return startCamera(t, cameraOpts{medias: []*description.Media{{Type: description.MediaTypeVideo,
				Formats: []format.Format{&format.MJPEG{}}}}}).url("", "")
		}, ingest.ErrUnsupportedCodec},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing, err := ingest.New(ingest.Config{URL: tc.url(), Once: true, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			begin := time.Now()
			err = ing.Run(ctx, make(chan media.AccessUnit))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("Once took %v: should fail fast", d)
			}
			if st := ing.State(); st.Status != ingest.StatusError || st.Reason == "" {
				t.Errorf("State = %+v, want error with a reason", st)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  ingest.Config
		bad  string // must appear in the error
	}{
		{"empty url", ingest.Config{}, "URL is empty"},
		{"http url", ingest.Config{URL: "http://u:topsecret@cam/x"}, "rtsp://"},
		{"transport", ingest.Config{URL: "rtsp://cam/x", Transport: "quic"}, "tcp or udp"},
		{"buffer", ingest.Config{URL: "rtsp://cam/x", BufferSize: -1}, "negative"},
		{"backoff", ingest.Config{URL: "rtsp://cam/x", BackoffMin: time.Second, BackoffMax: time.Millisecond}, "backoff"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ingest.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Fatalf("New = %v, want an error about %q", err, tc.bad)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("password in error: %v", err)
			}
		})
	}
	if _, err := ingest.New(ingest.Config{URL: "rtsp://admin:pw@10.0.0.7:554/stream1", Transport: "UDP"}); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

// TestStaleUnitsDropped: a consumer that pauses for 2 s, with room for
// every unit in the buffer, gets no unit older than MaxAge afterwards: the
// backlog is dropped as stale (not as a full buffer) and the stream resumes
// at a keyframe. Without the bound the first units after the pause are
// 2 s old.
func TestStaleUnitsDropped(t *testing.T) {
	t.Parallel()
	const maxAge = 300 * time.Millisecond
	cam := startCamera(t, cameraOpts{})
	r := start(t, ingest.Config{URL: cam.url("", ""), BufferSize: 100, MaxAge: maxAge, Logger: quietLogger()}, 0)
	prev := r.next(t, 10*time.Second)
	time.Sleep(2 * time.Second) // 20 units arrive; all fit in the buffer
	gaps := 0
	for n := 0; n < 20; n++ {
		au := r.next(t, 5*time.Second)
		// Handed over within maxAge; the rest is this goroutine's wake-up.
		if age := time.Since(au.Received); age > maxAge+150*time.Millisecond {
			t.Errorf("unit %d after the pause is %v old, want at most %v", n, age.Round(time.Millisecond), maxAge)
		}
		if au.PTS-prev.PTS > 150*time.Millisecond {
			gaps++
			if !au.Keyframe {
				t.Fatalf("first unit after a gap (%v -> %v) is not a keyframe", prev.PTS, au.PTS)
			}
		}
		prev = au
	}
	s := r.ing.Stats()
	if gaps == 0 || s.Stale == 0 {
		t.Errorf("%d gaps, stats %+v: want the backlog dropped as stale", gaps, s)
	}
	if s.Dropped != 0 {
		t.Errorf("Dropped = %d with room in the buffer; want only stale drops", s.Dropped)
	}
}
