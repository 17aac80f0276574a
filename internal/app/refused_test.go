package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/payloadschema"
)

// auditRecords returns the data of every record of kind in the audit
// folder dir, in order.
func auditRecords(t *testing.T, dir, kind string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, l := range strings.Split(readAuditFiles(t, dir), "\n") {
		if l == "" {
			continue
		}
		var r struct {
			Kind string          `json:"kind"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if r.Kind == kind {
			out = append(out, r.Data)
		}
	}
	return out
}

// TestCameraRefusedIsAlerted: a camera edge cannot build (here its
// recording folder lies under a file) is left out while the others start,
// and the refusal is both in the audit log and an alert for {prefix}/alerts
// of the documented shape, naming the camera and the site, as at start,
// before the monitor has a config.
func TestCameraRefusedIsAlerted(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "a-file")
	writeFile(t, blocker, "not a folder")
	camB := fmt.Sprintf("  - id: b\n    url: rtsp://127.0.0.1:9/b\n    signage: s1\n    record: {enabled: true, dir: %s}\nsignage:\n", filepath.Join(blocker, "rec"))
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, strings.Replace(fmt.Sprintf(appConfig, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), 9), "signage:\n", camB, 1))
	_, cfg, err := loadConfig(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sink := &edgetest.Sink{}
	log := quietLogger()
	r := newRunner(log, sink)
	auditDir := filepath.Join(dir, "audit")
	a, err := openAudit(auditDir, 0, filepath.Join(dir, "key", "device.key"), sink, log)
	if err != nil {
		t.Fatal(err)
	}
	r.audit, r.sink = a, a
	// As Run wires it: alerts go through the monitor, which audits them.
	r.mon = compliance.New(compliance.Config{Sink: sink, Audit: a, Logger: log})
	if r.outs, err = newOutputs(cfg, log, r.mon, a); err != nil {
		t.Fatal(err)
	}
	ms := mustMembers(t, context.Background(), r, cfg)
	a.Close()
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.Camera.ID())
	}
	if !slices.Equal(ids, []string{"a"}) {
		t.Fatalf("built %v, want [a] (b refused)", ids)
	}

	recs := auditRecords(t, auditDir, kindCameraRefused)
	if len(recs) != 1 {
		t.Fatalf("%d camera_refused audit records, want 1", len(recs))
	}
	var rec struct{ Camera, Error string }
	if err := json.Unmarshal(recs[0], &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Camera != "b" || !strings.Contains(rec.Error, "record") {
		t.Fatalf("audit record %+v, want camera b and the recorder's error", rec)
	}

	alerts := edgetest.Of[events.Alert](sink.Messages())
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v, want one camera_refused", alerts)
	}
	al := alerts[0]
	if al.Type != events.AlertCameraRefused || al.Camera != "b" || al.Site != "s" || !strings.Contains(al.Message, "record") {
		t.Fatalf("alert %+v, want camera_refused for camera b of site s with the reason", al)
	}
	if al.Topic("edge/s/b1") != "edge/s/b1/alerts" {
		t.Fatalf("alert topic %q", al.Topic("edge/s/b1"))
	}
	s, err := payloadschema.Load(payloadschema.Alert)
	if err != nil {
		t.Fatal(err)
	}
	b, err := al.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(payloadschema.Alert, b); err != nil {
		t.Fatalf("alert does not match docs/schema/alert.schema.json: %v\n%s", err, b)
	}
	// The monitor audits every alert it sends.
	if n := len(auditRecords(t, auditDir, compliance.KindAlert)); n != 1 {
		t.Fatalf("%d alert audit records, want 1", n)
	}
}
