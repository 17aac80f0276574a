package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/syncbuf"
)

// bigConfig is a legal config of cams cameras, each with 20 privacy zones
// of 1,000 points (the limit): about 0.4 MB a camera.
func bigConfig(t *testing.T, cams int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("site: big\nmqtt:\n  broker: tcp://127.0.0.1:1\ncameras:\n")
	for c := range cams {
		fmt.Fprintf(&b, "  - id: cam%d\n    url: rtsp://127.0.0.1:1/c%d\n    zones:\n", c, c)
		for z := range 20 {
			cx, cy := 0.05+0.09*float64(z%10), 0.1+0.2*float64(z/10)
			fmt.Fprintf(&b, "      - id: z%d\n        kind: privacy\n        polygon: [", z)
			for i := range 1000 {
				a := 2 * math.Pi * float64(i) / 1000
				fmt.Fprintf(&b, "[%.5f, %.5f], ", cx+0.04*math.Cos(a), cy+0.04*math.Sin(a))
			}
			b.WriteString("]\n")
		}
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("big%d.yaml", cams))
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigCheckHonoursSIGTERM sends SIGTERM to `edge config check` (and
// once to `edge run`) at several moments of the load of an 8 MB config (YAML parse, decode,
// validation and rasterisation of 400 polygons of 1,000 points, seconds in
// all): each time it must exit within a second, saying why.
func TestConfigCheckHonoursSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := binary(t)
	// The same zones on one camera are legal, so the large file is too.
	if out, err := exec.Command(bin, "config", "check", bigConfig(t, 1)).CombinedOutput(); err != nil {
		t.Fatalf("the one-camera config is refused: %v\n%s", err, out)
	}
	path := bigConfig(t, 20)
	interrupted := 0
	dir := t.TempDir()
	for _, c := range []struct {
		after time.Duration
		args  []string
	}{
		{300 * time.Millisecond, []string{"config", "check", path}},
		{2 * time.Second, []string{"config", "check", path}},
		{5 * time.Second, []string{"config", "check", path}},
		{2 * time.Second, []string{"run", "--config", path, "--http", "off", "--audit", filepath.Join(dir, "audit"), "--key", filepath.Join(dir, "device.key")}},
	} {
		after := c.after
		out := &syncbuf.Buffer{}
		cmd := exec.Command(bin, c.args...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Logf("%s: SIGTERM after %v: it had already ended (%v)", c.args[0], after, err)
			continue
		case <-time.After(after):
		}
		sent := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			took := time.Since(sent)
			t.Logf("%s: SIGTERM after %v: exit in %v: %v: %s", c.args[0], after, took.Round(time.Millisecond), err, strings.TrimSpace(out.String()))
			// Before main installs its handler, the default action (exit
			// by the signal) is as prompt and loses nothing.
			var ee *exec.ExitError
			byDefault := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGTERM
			if !byDefault && (err == nil || !strings.Contains(out.String(), "loading stopped") || !strings.Contains(out.String(), "terminated")) {
				t.Errorf("SIGTERM after %v: exit %v with %q; want a failure saying the load was stopped by SIGTERM", after, err, out.String())
			}
			if took > time.Second {
				t.Errorf("SIGTERM after %v: exit took %v, want under 1 s", after, took)
			}
			interrupted++
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("SIGTERM after %v: still running 5 s later", after)
		}
	}
	if interrupted == 0 {
		t.Fatal("the check always ended before SIGTERM: the test proved nothing; make the config larger")
	}
}
