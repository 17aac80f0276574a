package app

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/payloadschema"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/snapshot"
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
	r, a := auditedRunner(t, dir, log, sink)
	auditDir := filepath.Join(dir, "audit")
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

// TestMaskingCountsAreAudited: while edge serves, each running camera's
// masking counts go to the audit log (every minute; shortened here), so an
// inspector can see that every decoded frame was masked. The camera is a
// real loopback RTSP replay of vtest.
func TestMaskingCountsAreAudited(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, strings.Replace(fmt.Sprintf(appConfig, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), 9),
		"rtsp://127.0.0.1:9/a", cam.URLs()[0], 1))
	raw, cfg, err := loadConfig(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sink := &edgetest.Sink{}
	log := quietLogger()
	r, a := auditedRunner(t, dir, log, sink)
	r.maskingEvery = 200 * time.Millisecond
	auditDir := filepath.Join(dir, "audit")
	defer a.Close()
	if r.outs, err = newOutputs(cfg, log, compliance.New(compliance.Config{Sink: sink}), a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.site = pipeline.NewSite(log)
	served := make(chan struct{})
	defer func() { cancel(); <-served; r.site.Wait() }()
	r.site.Apply(ctx, mustMembers(t, ctx, r, cfg))
	go func() {
		defer close(served)
		r.serve(ctx, &loaded{path: path, raw: raw, cfg: cfg}, 0, nil, nil)
	}()

	var last auditMasking
	waitFor(t, 30*time.Second, "a masking record with frames masked", func() bool {
		for _, d := range auditRecords(t, auditDir, kindMasking) {
			var m auditMasking
			if err := json.Unmarshal(d, &m); err != nil {
				t.Fatal(err)
			}
			if m.Camera != "a" {
				t.Fatalf("masking record for camera %q, want a", m.Camera)
			}
			last = m
		}
		return last.Masked > 0
	})
	if last.Decoded < last.Masked || last.MaskFailed != 0 {
		t.Fatalf("masking record %+v: want every masked frame decoded and none failed", last)
	}
}

// TestSnapshotClearingIsAudited: the snapshotter clears a retained snapshot
// an earlier run may have left, and the clearing (camera, reason) is in the
// audit log beside the empty retained message it sends.
func TestSnapshotClearingIsAudited(t *testing.T) {
	dir := t.TempDir()
	cfg, err := configs.LoadBytes([]byte(strings.Replace(fmt.Sprintf(appConfig, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), 9),
		"  - id: a\n", "  - id: a\n    signage: s1\n    snapshots: {enabled: true, retain_seconds: 60}\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	log := quietLogger()
	auditDir := filepath.Join(dir, "audit")
	a, err := openAudit(auditDir, 0, filepath.Join(dir, "key", "device.key"), &edgetest.Sink{}, log)
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOutputs(cfg, log, compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), a)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cfg.Camera("a")
	sink := &edgetest.Sink{}
	if _, err := o.camera(c, sink); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := o.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the retained snapshot cleared", func() bool {
		return len(edgetest.Of[events.ClearSnapshot](sink.Messages())) > 0
	})
	cancel()
	wait()
	a.Close()
	recs := auditRecords(t, auditDir, kindSnapshotClear)
	if len(recs) != 1 {
		t.Fatalf("%d snapshot_cleared audit records, want 1", len(recs))
	}
	var rec struct {
		Camera string  `json:"camera"`
		ShownS float64 `json:"shown_s"`
		Reason string  `json:"reason"`
	}
	if err := json.Unmarshal(recs[0], &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Camera != "a" || rec.Reason != snapshot.ClearStart {
		t.Fatalf("snapshot_cleared record %+v, want camera a, reason %q", rec, snapshot.ClearStart)
	}
}
