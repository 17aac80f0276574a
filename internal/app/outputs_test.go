package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/restream"
)

// TestOutputsLifecycle: outputs built before start run once started, outputs
// added later (a reload) run at once, the restream server listens from start
// until every output has ended, and wait returns only after all of them.
func TestOutputsLifecycle(t *testing.T) {
	dir := t.TempDir()
	port := freeport.TCP(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg, err := configs.LoadBytes([]byte(fmt.Sprintf(`
site: s
mqtt: {broker: "tcp://127.0.0.1:1883", spool_dir: %s}
restream: {addr: "%s"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:9/a
    restream: true
    record: {enabled: true, dir: %s}
    signage: s1
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`, filepath.Join(dir, "spool"), addr, filepath.Join(dir, "rec"))))
	if err != nil {
		t.Fatal(err)
	}
	log := quietLogger()
	o, err := newOutputs(cfg, log, compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.srv == nil {
		t.Fatal("a restreaming camera built no restream server")
	}
	cam, _ := cfg.Camera("a")
	sink := &edgetest.Sink{}
	b, err := o.camera(cam, sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.outputs) != 2 || b.latest == nil || b.outputs[1] != pipeline.Output(b.latest) {
		t.Fatalf("camera outputs = %d (want the encoder and the snapshot output last)", len(b.outputs))
	}
	if b.sink.Offer(events.State{Camera: "a"}); len(sink.Messages()) != 1 {
		t.Fatal("without snapshots the camera's messages do not reach the runner's sink")
	}
	runs := 0
	for _, p := range o.pending {
		runs += len(p.runs)
	}
	if runs != 4 {
		t.Fatalf("%d output runs waiting for start, want 4 (encoder, fan-out, restream path, recorder)", runs)
	}

	var early, late atomic.Int32
	o.run(&part{name: "early", runs: []func(context.Context) error{func(ctx context.Context) error { early.Add(1); <-ctx.Done(); early.Add(1); return nil }}})
	if early.Load() != 0 {
		t.Fatal("an output ran before start")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the restream server listens before start")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait, err := o.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o.run(&part{name: "late", runs: []func(context.Context) error{func(ctx context.Context) error { late.Add(1); <-ctx.Done(); late.Add(1); return nil }}})
	eventually(t, "outputs running", func() bool { return early.Load() == 1 && late.Load() == 1 })
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("restream server not listening after start: %v", err)
	}
	c.Close()

	waited := make(chan struct{})
	go func() { wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("wait returned before the context was done")
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return within 10 s of cancel")
	}
	if early.Load() != 2 || late.Load() != 2 {
		t.Fatalf("wait returned before every output ended (early %d, late %d)", early.Load(), late.Load())
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the restream server still listens after wait")
	}
}

// TestOutputsWithoutRestream: no camera restreams, so no server is built.
func TestOutputsWithoutRestream(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOutputs(cfg, quietLogger(), compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.srv != nil {
		t.Fatal("a restream server was built though no camera restreams")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerAfterStop: a reload that builds the restream server while the
// outputs stop (ctx done, wait closing the server) must neither race wait
// on o.srv (-race) nor leave a server listening: once ctx is done none is
// built.
func TestServerAfterStop(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Restream.Addr = "127.0.0.1:0"
	o, err := newOutputs(cfg, quietLogger(), compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := o.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	built := make(chan *restream.Server, 1)
	go func() {
		srv, _ := o.server(cfg) // a reload turning restream on
		built <- srv
	}()
	cancel()
	wait()
	if srv := <-built; srv != nil {
		if c, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
			c.Close()
			t.Error("a restream server built during the stop still listens after wait")
		}
	}
	srv, err := o.server(cfg)
	if err == nil || srv != nil {
		if srv != nil {
			srv.Close()
		}
		t.Fatalf("server after stop: %v, %v; want it refused", srv, err)
	}
}

// TestConfigWhileCamerasBuild: a reload replaces the outputs' config while
// a camera's outputs are built on another goroutine (run under -race; the
// config was read and written without the lock).
func TestConfigWhileCamerasBuild(t *testing.T) {
	text := strings.Replace(reloadBase, "record: {enabled: true, dir: /tmp/rec}", "snapshots: {enabled: true}", 1)
	cfg, err := configs.LoadBytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	next, err := configs.LoadBytes([]byte(strings.Replace(text, "expires_at: 2030-01-01", "expires_at: 2029-01-01", 1)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOutputs(cfg, quietLogger(), compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cfg.Camera("a")
	done := make(chan error, 1)
	go func() {
		_, err := o.camera(c, &edgetest.Sink{})
		done <- err
	}()
	for range 20 {
		if _, err := o.reconfigure(next); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if o.config() != next {
		t.Fatal("the reloaded config is not in force")
	}
}
