package console_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/console"
	"github.com/edgeprivacy/edge/internal/devicekey"
)

// TestAuditAcrossRotatedFiles: the console's audit view and its past events
// read every file of the chained log, not only the newest one since the last
// rotation.
func TestAuditAcrossRotatedFiles(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := devicekey.LoadOrCreate(filepath.Join(t.TempDir(), "key", "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := audit.Open(audit.Config{Dir: dir, Key: key, MaxBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		e := events.Event{ID: fmt.Sprintf("e%02d", i), Type: "enter", Camera: "a", Zone: "z", TS: t0.Add(time.Duration(i) * time.Second)}
		if err := l.Write("event", e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := audit.Files(dir)
	if len(files) < 4 {
		t.Fatalf("%d audit files; want the log rotated several times", len(files))
	}
	s, err := console.New(console.Config{HTTP: configs.HTTP{Addr: "127.0.0.1:0"}, Backend: &backend{cfg: cfg}, Events: console.NewEvents(1), AuditPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	get := func(q string, v any) {
		t.Helper()
		resp, err := ts.Client().Get(ts.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var evs struct{ Events []events.Event }
	get("/api/events?source=audit&limit=100", &evs)
	if len(evs.Events) != n || evs.Events[0].ID != "e39" || evs.Events[n-1].ID != "e00" {
		t.Fatalf("%d past events from %d files (first %v); want all %d, newest first", len(evs.Events), len(files), ids(evs.Events[:min(3, len(evs.Events))]), n)
	}
	// A limit that ends inside an older file takes the newest records.
	get("/api/events?source=audit&limit=25", &evs)
	if len(evs.Events) != 25 || evs.Events[24].ID != "e15" {
		t.Fatalf("limit 25: %d events, last %v", len(evs.Events), ids(evs.Events))
	}
	var recs struct {
		Records []audit.Record
	}
	get("/api/audit?limit=500", &recs)
	if len(recs.Records) != n || recs.Records[0].Seq != n || recs.Records[n-1].Seq != 1 {
		t.Fatalf("audit view: %d records; want all %d, newest first", len(recs.Records), n)
	}
}
