package probe_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/probe"
	"github.com/edgeprivacy/edge/internal/replay"
)

// TestProbeReplayedClip probes a real RTSP camera: the replay server
// streaming testvideos/vtest.mp4 (H.264, 768x576) on loopback.
func TestProbeReplayedClip(t *testing.T) {
	srv, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := probe.Camera(ctx, probe.Config{URL: srv.URLs()[0], Transport: "tcp", Frames: 10, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	res.Print(&b)
	for _, want := range []string{"over TCP", "H.264 768x576", "10 decoded", "decode"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("probe output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestProbeFails: a closed port, bad arguments; the error never holds the password.
func TestProbeFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := fmt.Sprintf("rtsp://admin:hunter2@127.0.0.1:%d/cam", port)
	cases := []struct {
		name string
		cfg  probe.Config
		want string
	}{
		{"closed port", probe.Config{URL: url, Transport: "tcp", Frames: 1, Timeout: 2 * time.Second}, "127.0.0.1"},
		{"no frames asked", probe.Config{URL: url, Transport: "tcp", Frames: 0, Timeout: time.Second}, "at least 1"},
		{"no timeout", probe.Config{URL: url, Transport: "tcp", Frames: 1}, "positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := probe.Camera(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error holds the password: %v", err)
			}
		})
	}
}
