package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/syncbuf"
	"github.com/edgeprivacy/edge/pipeline"
)

// appConfig is a config whose cameras point at a closed loopback port: their
// pipelines start and keep retrying, which is all reload needs.
const appConfig = `
site: s
mqtt: {broker: "%s", spool_dir: %s}
cameras:
  - id: a
    url: rtsp://127.0.0.1:%d/a
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]}
      - {id: hall, kind: monitored, signage: s1, polygon: [[0.3, 0], [1, 0], [1, 1], [0.3, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`

// auditLine is what the tests read back of the audit log.
type auditLine struct {
	Kind   string `json:"kind"`
	Error  string `json:"error"`
	Config *struct {
		Reason   string   `json:"reason"`
		Started  []string `json:"started"`
		Updated  []string `json:"updated"`
		Replaced []string `json:"replaced"`
		Stopped  []string `json:"stopped"`
		Cameras  []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"cameras"`
	} `json:"config"`
}

// readAuditLines returns the config and config_rejected records of the
// audit folder dir, in order.
func readAuditLines(t *testing.T, dir string) []auditLine {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	var out []auditLine
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r struct {
				Kind string          `json:"kind"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("audit line %q: %v", sc.Text(), err)
			}
			l := auditLine{Kind: r.Kind}
			switch r.Kind {
			case "config":
				if err := json.Unmarshal(r.Data, &l.Config); err != nil {
					t.Fatal(err)
				}
			case "config_rejected":
				if err := json.Unmarshal(r.Data, &l); err != nil {
					t.Fatal(err)
				}
				l.Kind = r.Kind
			default:
				continue
			}
			out = append(out, l)
		}
		f.Close()
	}
	return out
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// auditedRunner is a runner writing to an audit log under dir/audit (the
// device key under dir/key), as Run wires them; the caller closes the log.
func auditedRunner(t *testing.T, dir string, log *slog.Logger, sink pipeline.Sink) (*runner, *auditLog) {
	t.Helper()
	r := newRunner(log, sink)
	a, err := openAudit(filepath.Join(dir, "audit"), 0, filepath.Join(dir, "key", "device.key"), sink, log)
	if err != nil {
		t.Fatal(err)
	}
	r.audit, r.sink = a, a
	return r, a
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError + 1}))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestReload applies a sequence of edits to a running site and checks what
// each one started, restarted, stopped or rejected, in the audit log, in the
// site and on the sink.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	base := fmt.Sprintf(appConfig, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), freeport.TCP(t))
	writeFile(t, path, base)
	raw, cfg, err := loadConfig(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sink := &edgetest.Sink{}
	var logs syncbuf.Buffer // the operator reads what each reload did here too
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r, a := auditedRunner(t, dir, log, sink)
	auditPath := filepath.Join(dir, "audit")
	defer a.Close()
	if r.outs, err = newOutputs(cfg, log, compliance.New(compliance.Config{Sink: sink}), a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	site := pipeline.NewSite(log)
	r.site = site
	defer func() { cancel(); site.Wait() }()
	if ch := site.Apply(ctx, mustMembers(t, ctx, r, cfg)); !slices.Equal(ch.Started, []string{"a"}) {
		t.Fatalf("started %v, want [a]", ch.Started)
	}
	cur := &loaded{path: path, raw: raw, cfg: cfg}

	camB := "  - {id: b, url: \"rtsp://user:hunter2@127.0.0.1:9/b\"}\nsignage:\n"
	steps := []struct {
		name     string
		edit     func(string) string
		kind     string   // the audit record written, "" for none
		started  []string // for kind "config"
		updated  []string
		replaced []string
		stopped  []string
		rejected string // part of the rejection, for kind "config_rejected"
		problems int    // problems the rejection alert lists, at least
		cameras  int    // running after the step
		logged   string // in the log of the step, where set
	}{
		{name: "unchanged file: nothing", edit: func(s string) string { return s }, cameras: 1, logged: "config unchanged; nothing to apply"},
		{name: "a new camera without outputs starts", edit: func(s string) string { return strings.Replace(s, "signage:\n", camB, 1) },
			kind: "config", started: []string{"b"}, cameras: 2},
		{name: "invalid yaml is rejected", edit: func(s string) string { return s + "\n  : [" },
			kind: "config_rejected", rejected: "yaml", cameras: 2},
		{name: "an invalid config is rejected", edit: func(s string) string {
			return strings.Replace(s, "expires_at: 2030", "expires_at: 2020", 1) + "\nnope: 1\n"
		},
			kind: "config_rejected", rejected: "nope", cameras: 2},
		{name: "every problem of a rejected config is listed", edit: func(s string) string {
			return strings.NewReplacer("purpose: crowd-safety", "purpose: marketing", "expires_at: 2030", "expires_at: 2020").Replace(s)
		},
			kind: "config_rejected", rejected: "marketing", problems: 2, cameras: 2},
		{name: "a broker change needs a restart", edit: func(s string) string { return strings.Replace(s, ":1883", ":1884", 1) },
			kind: "config_rejected", rejected: "mqtt", cameras: 2},
		{name: "a zone edit reconfigures its camera in place", edit: func(s string) string { return strings.Replace(s, "[[0.3, 0]", "[[0.4, 0]", 1) },
			kind: "config", updated: []string{"a"}, cameras: 2},
		{name: "a min_score edit reconfigures in place", edit: func(s string) string {
			return strings.Replace(s, "  - id: a\n", "  - id: a\n    detect: {min_score: 0.8}\n", 1)
		},
			kind: "config", updated: []string{"a"}, cameras: 2},
		{name: "a track_score and hold_seconds edit reconfigures in place", edit: func(s string) string {
			return strings.Replace(s, "detect: {min_score: 0.8}", "detect: {min_score: 0.8, track_score: 0.9, hold_seconds: 3}", 1)
		},
			kind: "config", updated: []string{"a"}, cameras: 2},
		{name: "a URL change restarts only its camera", edit: func(s string) string { return strings.Replace(s, "/a\n", "/a2\n", 1) },
			kind: "config", replaced: []string{"a"}, cameras: 2},
		{name: "a removed camera stops", edit: func(s string) string { return strings.Replace(s, camB, "signage:\n", 1) },
			kind: "config", stopped: []string{"b"}, cameras: 1},
	}
	text := base
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := len(readAuditLines(t, auditPath))
			alertsBefore := len(edgetest.Of[events.Alert](sink.Messages()))
			cfgBefore := cur.cfg
			next := st.edit(text)
			logged := len(logs.String())
			writeFile(t, path, next)
			r.reload(ctx, cur)
			if st.kind == "config_rejected" {
				st.logged = "config reload rejected; the running config stays in force"
			}
			if st.logged != "" && !strings.Contains(logs.String()[logged:], st.logged) {
				t.Errorf("log of the step lacks %q:\n%s", st.logged, logs.String()[logged:])
			}
			lines := readAuditLines(t, auditPath)[before:]
			switch {
			case st.kind == "" && len(lines) != 0:
				t.Fatalf("audit got %+v, want nothing", lines)
			case st.kind != "" && (len(lines) != 1 || lines[0].Kind != st.kind):
				t.Fatalf("audit got %+v, want one %q record", lines, st.kind)
			}
			if st.kind == "config" {
				c := lines[0].Config
				if c.Reason != "reload" || !slices.Equal(c.Started, st.started) || !slices.Equal(c.Updated, st.updated) ||
					!slices.Equal(c.Replaced, st.replaced) || !slices.Equal(c.Stopped, st.stopped) {
					t.Fatalf("audit config %+v, want started %v updated %v replaced %v stopped %v", c, st.started, st.updated, st.replaced, st.stopped)
				}
				for _, cam := range c.Cameras {
					if strings.Contains(cam.URL, "hunter2") {
						t.Fatalf("audit holds camera %s's password: %s", cam.ID, cam.URL)
					}
				}
				text = next
			}
			if st.kind == "config_rejected" && !strings.Contains(lines[0].Error, st.rejected) {
				t.Fatalf("rejection %q, want it to name %q", lines[0].Error, st.rejected)
			}
			// Every reload's result is an alert for MQTT: accepted, or
			// rejected with every problem.
			alerts := edgetest.Of[events.Alert](sink.Messages())[alertsBefore:]
			want := map[string]string{"config": events.AlertReloadAccepted, "config_rejected": events.AlertReloadRejected}[st.kind]
			switch {
			case want == "" && len(alerts) != 0:
				t.Fatalf("alerts %+v, want none", alerts)
			case want != "" && (len(alerts) != 1 || alerts[0].Type != want):
				t.Fatalf("alerts %+v, want one %s", alerts, want)
			case want == events.AlertReloadRejected && (len(alerts[0].Errors) < max(st.problems, 1) || !strings.Contains(strings.Join(alerts[0].Errors, "\n"), st.rejected)):
				t.Fatalf("rejection alert lists %q, want at least %d problem(s) naming %q", alerts[0].Errors, max(st.problems, 1), st.rejected)
			}
			if n := site.Len(); n != st.cameras {
				t.Fatalf("%d cameras running, want %d", n, st.cameras)
			}
			if (st.kind == "config") != (cur.cfg != cfgBefore) {
				t.Fatalf("config in force replaced = %v, want %v", cur.cfg != cfgBefore, st.kind == "config")
			}
		})
	}
	// A stopped camera's retained state is replaced, so subscribers do not
	// go on trusting the last one.
	var stoppedB bool
	for _, s := range edgetest.Of[events.State](sink.Messages()) {
		stoppedB = stoppedB || (s.Camera == "b" && s.Status == events.StatusStopped)
	}
	if !stoppedB {
		t.Fatalf("no stopped state for removed camera b in %+v", edgetest.Of[events.State](sink.Messages()))
	}
	if len(cur.cfg.Cameras) != 1 || !strings.Contains(string(cur.raw), "[[0.4, 0]") {
		t.Fatalf("config in force is not the last accepted one:\n%s", cur.raw)
	}
}

// TestRunReloadsOnSignal drives Run itself: an embedded broker, a camera
// that never answers, a reload asked for on the channel, and a clean stop.
func TestRunReloadsOnSignal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	port := freeport.TCP(t)
	base := fmt.Sprintf(appConfig, "", filepath.Join(dir, "spool"), port)
	writeFile(t, path, base)
	auditPath := filepath.Join(dir, "audit")
	reload := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, AuditDir: auditPath, KeyPath: filepath.Join(dir, "key", "device.key"), Reload: reload, HTTPAddr: "127.0.0.1:0", Logger: quietLogger()})
	}()
	waitAudit := func(what string, ok func([]auditLine) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok(readAuditLines(t, auditPath)) {
			select {
			case err := <-done:
				t.Fatalf("Run returned %v while waiting for %s", err, what)
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s in the audit log: %+v", what, readAuditLines(t, auditPath))
			}
		}
	}
	waitAudit("start record", func(ls []auditLine) bool {
		return len(ls) > 0 && ls[0].Config != nil && ls[0].Config.Reason == "start"
	})
	writeFile(t, path, strings.Replace(base, "signage:\n", fmt.Sprintf("  - {id: b, url: \"rtsp://127.0.0.1:%d/b\"}\nsignage:\n", port), 1))
	reload <- syscall.SIGHUP
	waitAudit("reload starting b", func(ls []auditLine) bool {
		l := ls[len(ls)-1]
		return l.Config != nil && l.Config.Reason == "reload" && slices.Equal(l.Config.Started, []string{"b"})
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v after cancel, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20 s of cancel")
	}
}

func TestRunRefusesWithoutCameras(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, strings.Replace(fmt.Sprintf(appConfig, "", filepath.Join(dir, "spool"), freeport.TCP(t)), "  - id: a\n", "  - id: a\n    enabled: false\n", 1))
	err := Run(context.Background(), Options{ConfigPath: path, AuditDir: filepath.Join(dir, "audit"), KeyPath: filepath.Join(dir, "key", "device.key"), HTTPAddr: "off", Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "no camera could be started") {
		t.Fatalf("Run = %v, want no camera could be started", err)
	}
}

// TestRunHTTPFlag: --http is held to the rules of http.addr, and a port in
// use fails the start before any camera runs.
func TestRunHTTPFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, fmt.Sprintf(appConfig, "", filepath.Join(dir, "spool"), freeport.TCP(t)))
	state := func() (string, string) {
		return filepath.Join(t.TempDir(), "audit"), filepath.Join(t.TempDir(), "key", "device.key")
	}
	auditDir, keyPath := state()
	err := Run(context.Background(), Options{ConfigPath: path, AuditDir: auditDir, KeyPath: keyPath, HTTPAddr: "0.0.0.0:0", Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "http.username") || !strings.Contains(err.Error(), "--http 0.0.0.0:0") {
		t.Fatalf("Run with --http 0.0.0.0:0 and no credentials = %v, want the http.username problem", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	auditDir, keyPath = state()
	err = Run(context.Background(), Options{ConfigPath: path, AuditDir: auditDir, KeyPath: keyPath, HTTPAddr: busy.Addr().String(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "--http") || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Run on a port in use = %v, want the port named with the fix", err)
	}
}
