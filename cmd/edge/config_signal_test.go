package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
		cpuBefore, cpuErr := processCPU(cmd.Process.Pid)
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
			// The CPU the process spent after the signal, not the wall
			// clock: on a loaded 2-core box a prompt exit still waited
			// 1.9 s for the CPU; a stage that ignores the signal burns
			// seconds of it.
			if cpuErr != nil {
				t.Fatalf("CPU time of the child at SIGTERM: %v", cpuErr)
			}
			spent := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() - cpuBefore
			t.Logf("%s: SIGTERM after %v: %v of CPU after the signal", c.args[0], after, spent.Round(time.Millisecond))
			if spent > 500*time.Millisecond {
				t.Errorf("SIGTERM after %v: %v of CPU after the signal (exit in %v), want under 0.5 s", after, spent, took)
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

// processCPU is the user plus system CPU time pid has used so far, from
// /proc/PID/stat (utime and stime, in clock ticks of 1/100 s on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start past its closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name in %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
