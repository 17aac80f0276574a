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
