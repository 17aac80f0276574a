package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/pipeline"
)

const outputsConfig = `
site: ot
box_id: b1
mqtt: {broker: "%s", topic_prefix: ot, spool_dir: %s}
restream: {addr: "127.0.0.1:%d"}
audit: {dir: %s}
cameras:
  - id: lobby
    url: %s
    signage: cam-sign
    restream: %v
    record: {enabled: %v, dir: %s, segment_seconds: 2}
    snapshots: {enabled: %v}
    encode: {fps: 10, bitrate_kbps: 800, width: 384}
    detect: {fps: 1, width: 320}
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.25, 0], [0.25, 1], [0, 1]]}
signage:
  - {id: cam-sign, purpose: public-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-01-01T00:00:00Z}
`

// playing waits for an RTP packet the viewer receives after now.
func playing(v *viewer, d time.Duration) bool {
	select { // drop what was received before
	case <-v.n:
	default:
	}
	select {
	case <-v.n:
		return true
	case <-time.After(d):
		return false
	}
}

// TestOutputChangesKeepThePipeline reloads a running camera's output
// settings one after the other (recording on, snapshots on, restream off):
// each applies within seconds, and the camera's pipeline is never started
// again (ingest, decode and the tracker run on). A viewer of the restream
// keeps playing while the recording is switched on, and is disconnected
// when the restream is switched off while the recording goes on.
func TestOutputChangesKeepThePipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	testclip.Need(t)
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	mq := mosquittotest.Start(t)
	dir := t.TempDir()
	port := freeport.TCP(t)
	auditDir, recDir := filepath.Join(dir, "audit"), filepath.Join(dir, "rec")
	cfgWith := func(restream, record, snapshots bool) string {
		return fmt.Sprintf(outputsConfig, mq.URL(), filepath.Join(dir, "spool"), port, auditDir, cam.URLs()[0], restream, record, recDir, snapshots)
	}
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, cfgWith(true, false, false))
	sub := subscribeAll(t, mq.URL(), events.Prefix("ot", "ot", "b1"))

	var starts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, KeyPath: filepath.Join(dir, "key", "device.key"), WatchEvery: 200 * time.Millisecond,
			HTTPAddr: "off", Logger: quietLogger(), OnCamera: func(*pipeline.Camera) { starts.Add(1) }})
	}()
	url := fmt.Sprintf("rtsp://127.0.0.1:%d/lobby", port)
	var v *viewer
	until(t, 60*time.Second, "a viewer playing the restream", func() bool {
		v, err = watchRestream(url)
		return err == nil
	})
	defer v.c.Close()
	if !playing(v, 30*time.Second) {
		t.Fatal("no RTP packet from the restream")
	}
	if n := starts.Load(); n != 1 {
		t.Fatalf("the pipeline started %d times before any reload", n)
	}
	accepted := 0
	reload := func(what, src string) {
		t.Helper()
		writeFile(t, path, src)
		accepted++
		until(t, 20*time.Second, what+": reload accepted", func() bool { return sub.count(events.AlertReloadAccepted) >= accepted })
	}

	reload("recording on", cfgWith(true, true, false))
	until(t, 30*time.Second, "a recorded segment", func() bool { b, _ := recordingBytes(recDir); return b > 0 })
	if !playing(v, 10*time.Second) {
		t.Fatal("the restream viewer stopped receiving when the recording was switched on")
	}

	reload("snapshots on", cfgWith(true, true, true))
	if !playing(v, 10*time.Second) {
		t.Fatal("the restream viewer stopped receiving when snapshots were switched on")
	}

	reload("restream off", cfgWith(false, true, true))
	select {
	case <-v.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the viewer was not disconnected within 10 s of the restream being switched off")
	}
	if v2, err := watchRestream(url); err == nil {
		v2.c.Close()
		t.Fatal("a new viewer was let in after the restream was switched off")
	}
	b1, _ := recordingBytes(recDir)
	until(t, 30*time.Second, "the recording going on", func() bool { b, _ := recordingBytes(recDir); return b > b1 })

	if n := starts.Load(); n != 1 {
		t.Fatalf("the camera's pipeline started %d times over three output changes; want once", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	paths, err := audit.Paths(auditDir)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		text.Write(b)
	}
	for _, want := range []string{`"outputs_rebuilt":["lobby/stream"]`, `"outputs_rebuilt":["lobby/snapshots"]`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// count is how many alerts of type typ were received.
func (m *mqttLog) count(typ string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, a := range m.alerts {
		if a.Type == typ {
			n++
		}
	}
	return n
}
