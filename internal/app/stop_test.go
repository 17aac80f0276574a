package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/pipeline"
)

func mustMembers(t *testing.T, ctx context.Context, r *runner, cfg *configs.Config) []pipeline.Member {
	t.Helper()
	ms, err := r.members(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// onMessage is a slog handler that calls fn once for the first record with
// message msg, and writes nothing.
type onMessage struct {
	msg string
	fn  func()
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg && h.fn != nil {
		h.fn()
		h.fn = nil
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }

// TestStopWhileBuildingCameras: a SIGTERM that comes once the config is
// loaded, as the cameras are being built, ends Run at once, saying how far
// it got, instead of building and starting every camera first (building
// checks every polygon again: about a second a camera with large zones;
// configs TestZoneListStopsBetweenZones covers the stop inside one camera).
func TestStopWhileBuildingCameras(t *testing.T) {
	const cams = 3
	var b strings.Builder
	dir := t.TempDir()
	fmt.Fprintf(&b, "site: s\nmqtt:\n  broker: tcp://127.0.0.1:1\n  spool_dir: %s\ncameras:\n", filepath.Join(dir, "spool"))
	for c := range cams {
		fmt.Fprintf(&b, "  - id: cam%d\n    url: rtsp://127.0.0.1:1/c%d\n    zones:\n", c, c)
		fmt.Fprintf(&b, "      - {id: z, kind: privacy, polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]}\n")
	}
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, b.String())

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var sent time.Time
	log := slog.New(&onMessage{msg: "building cameras", fn: func() {
		sent = time.Now()
		cancel(errors.New("terminated"))
	}})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, AuditDir: filepath.Join(dir, "audit"), KeyPath: filepath.Join(dir, "device.key"),
			HTTPAddr: "off", Logger: log})
	}()
	select {
	case err := <-done:
		took := time.Since(sent)
		if sent.IsZero() {
			t.Fatalf("Run ended before building cameras: %v", err)
		}
		if err == nil || !errors.Is(err, configs.ErrStopped) || !strings.Contains(err.Error(), "stopped while building cameras (0 of 3 built): terminated") {
			t.Errorf("Run = %v; want it stopped while building cameras, by the signal, before the first", err)
		}
		if took > time.Second {
			t.Errorf("Run returned %v after the signal; want under 1 s", took)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run still running a minute later")
	}
}
