package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/verify"
)

// TestVerifyRecordsReport: edge verify appends a report record (tied to the
// signed MANIFEST by its hash) to the audit log while a live writer holds
// the same log open, and edge audit verify accepts the chain afterwards.
func TestVerifyRecordsReport(t *testing.T) {
	bin := binary(t)
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	dir := filepath.Join(t.TempDir(), "audit")
	key, _, err := devicekey.LoadOrCreate(testKeyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	live, err := audit.Open(audit.Config{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Write("start", nil); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, text := runEdge(t, bin, "verify", "--config", filepath.Join(doorway, "config.yaml"), "--camera", "corridor-cam",
		"--recording", filepath.Join(doorway, "clip.mp4"), "--out", out, "--samples", "1", "--audit", dir)
	if code != 1 {
		t.Fatalf("verify of the raw clip: exit %d, want 1 (FAIL, recorded):\n%s", code, text)
	}
	// The live writer goes on after the other process appended.
	if err := live.Write("event", map[string]string{"zone": "walkway"}); err != nil {
		t.Fatal(err)
	}
	if err := live.Checkpoint(audit.ReasonStop); err != nil {
		t.Fatal(err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if code, text := runEdge(t, bin, "audit", "verify", dir); code != 0 || !strings.Contains(text, "audit chain whole: 5 records") {
		t.Fatalf("audit verify: exit %d, want 0 and 5 records (start, report, its checkpoint, event, stop checkpoint):\n%s", code, text)
	}
	m, err := os.ReadFile(filepath.Join(out, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(m)
	files, err := audit.Files(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("audit files %v: %v", files, err)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []verify.AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == verify.KindReport {
			var a verify.AuditRecord
			if err := json.Unmarshal(r.Data, &a); err != nil {
				t.Fatal(err)
			}
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d report records, want 1", len(found))
	}
	a := found[0]
	if a.Verdict != verify.Fail || a.ManifestSHA256 != hex.EncodeToString(sum[:]) || a.Camera != "corridor-cam" || a.Key != key.Fingerprint() {
		t.Fatalf("report record %+v: want FAIL, camera corridor-cam, the MANIFEST's hash and the device key", a)
	}
}

// TestAuditExportChecked: edge audit export seals its folder in the one
// signed-manifest format; edge report check checks it (a changed record or an
// added file is named) and edge audit verify checks the excerpt's chain.
func TestAuditExportChecked(t *testing.T) {
	bin := binary(t)
	key, _, err := devicekey.LoadOrCreate(testKeyPath(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := audit.Open(audit.Config{Dir: dir, Key: key, MaxBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := l.Write("event", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 3 {
			if err := l.Checkpoint(audit.ReasonPeriodic); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "export")
	day := time.Now().UTC().Format(time.DateOnly)
	next := time.Now().UTC().Add(48 * time.Hour).Format(time.DateOnly)
	if code, text := runEdge(t, bin, "audit", "export", "--dir", dir, "--from", day, "--to", next, "--out", exp); code != 0 {
		t.Fatalf("audit export: exit %d\n%s", code, text)
	}
	pub := filepath.Join(t.TempDir(), "device.pub")
	if err := os.WriteFile(pub, key.PublicKeyFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, text := runEdge(t, bin, "report", "check", exp, "--pubkey", pub); code != 0 || !strings.Contains(text, "audit-head") {
		t.Fatalf("report check of an export: exit %d, want 0 naming the audit head\n%s", code, text)
	}
	if code, text := runEdge(t, bin, "audit", "verify", "--pubkey", pub, exp); code != 0 || !strings.Contains(text, "15 records") {
		t.Fatalf("audit verify of an export: exit %d, want 0 and 15 records\n%s", code, text)
	}
	if code, text := runEdge(t, bin, "audit", "export", "--dir", dir, "--from", day, "--to", next, "--out", exp); code == 0 || !strings.Contains(text, "not empty") {
		t.Fatalf("export into the same folder: exit %d, want refused as not empty\n%s", code, text)
	}

	// An added file, then a changed record.
	extra := filepath.Join(exp, "note.txt")
	if err := os.WriteFile(extra, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, text := runEdge(t, bin, "report", "check", exp, "--pubkey", pub); code != 1 || !strings.Contains(text, "added: note.txt") {
		t.Fatalf("report check with an added file: exit %d\n%s", code, text)
	}
	if err := os.Remove(extra); err != nil {
		t.Fatal(err)
	}
	recs := filepath.Join(exp, audit.ExportRecords)
	b, err := os.ReadFile(recs)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"i":5`) + len(`"i":`)
	b[i] = '6'
	if err := os.WriteFile(recs, b, 0o640); err != nil {
		t.Fatal(err)
	}
	if code, text := runEdge(t, bin, "report", "check", exp, "--pubkey", pub); code != 1 || !strings.Contains(text, "changed: "+audit.ExportRecords) {
		t.Fatalf("report check with a changed record: exit %d\n%s", code, text)
	}
	if code, text := runEdge(t, bin, "audit", "verify", exp); code != 1 || !strings.Contains(text, "is broken") {
		t.Fatalf("audit verify with a changed record: exit %d\n%s", code, text)
	}
}
