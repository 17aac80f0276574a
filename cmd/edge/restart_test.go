package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/spool"
)

// TestSpoolSurvivesSIGKILL runs edge with its broker down, so that events
// only reach the spool, kills it with SIGKILL (no shutdown code runs), then
// starts the broker and edge again on the same spool: every event that was
// on disk at the kill must reach a subscriber.
func TestSpoolSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	mq := mosquittotest.Start(t)
	mq.Stop() // the port stays ours; nothing listens on it until Restart
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	rtspPort := freeport.TCP(t)
	start(t, "edge replay", "replay", "--addr", fmt.Sprintf("127.0.0.1:%d", rtspPort), "../../testvideos/vtest.mp4")
	cfgPath := filepath.Join(dir, "edge.yaml")
	writeConfig(t, cfgPath, fmt.Sprintf(e2eConfig, mq.URL(), spoolDir, rtspPort, rtspPort))
	runArgs := func(n int) []string {
		return []string{"run", "--config", cfgPath, "--audit", filepath.Join(dir, fmt.Sprint("audit", n)),
			"--key", filepath.Join(dir, "key", "device.key"), "--http", "off"}
	}

	first := start(t, "edge run (first)", runArgs(1)...)
	waitFor(t, 150*time.Second, "two events in the spool", func() bool { return len(spooledIDs(t, spoolDir)) >= 2 })
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil // for the cleanup's stop
	want := spooledIDs(t, spoolDir)
	t.Logf("%d events in the spool at SIGKILL", len(want))

	mq.Restart()
	sub := subscribe(t, mq.URL(), "e2e", "restart-subscriber")
	start(t, "edge run (second)", runArgs(2)...)
	missing := func() []string {
		evs, _ := sub.snapshot()
		seen := map[string]bool{}
		for _, e := range evs {
			seen[e.ID] = true
		}
		var m []string
		for _, id := range want {
			if !seen[id] {
				m = append(m, id)
			}
		}
		return m
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("%d of %d spooled events never reached the subscriber after the restart: %v", len(m), len(want), m)
	}
}

// spooledIDs reads the ids of the events in a copy of the spool at dir, so
// that the reading neither disturbs a running edge nor acknowledges anything.
func spooledIDs(t *testing.T, dir string) []string {
	t.Helper()
	cp := t.TempDir()
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			continue // rolled over and removed meanwhile
		}
		if err := os.WriteFile(filepath.Join(cp, f.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := spool.Open(cp, 1<<30, spool.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("open a copy of the spool: %v", err)
	}
	defer sp.Close()
	var ids []string
	for {
		rec, ok, err := sp.Peek()
		if err != nil || !ok {
			return ids
		}
		// A record is the topic's length (2 bytes), the topic, the payload.
		if len(rec) > 2 {
			if n := int(rec[0])<<8 | int(rec[1]); len(rec) >= 2+n && strings.HasSuffix(string(rec[2:2+n]), "/events") {
				var e events.Event
				if json.Unmarshal(rec[2+n:], &e) == nil && e.ID != "" {
					ids = append(ids, e.ID)
				}
			}
		}
		if err := sp.Ack(); err != nil {
			t.Fatal(err)
		}
	}
}
