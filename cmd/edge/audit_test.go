package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/exitcode"
	"github.com/edgeprivacy/edge/internal/manifest"
)

// TestAuditCommands: verify says whole (0), then names the record whose byte
// was changed (1), and unreadable input is 2; export writes a signed manifest.
func TestAuditCommands(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "key", "device.key")
	key, _, err := devicekey.LoadOrCreate(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := audit.Open(audit.Config{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Checkpoint(audit.ReasonStart); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if err := l.Write("event", map[string]int{"occupancy": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Checkpoint(audit.ReasonStop); err != nil {
		t.Fatal(err)
	}
	l.Close()

	var out bytes.Buffer
	if err := auditVerify(&out, []string{dir}); err != nil {
		t.Fatalf("whole chain: %v", err)
	}
	if !strings.Contains(out.String(), "10 records (1..10)") || !strings.Contains(out.String(), key.Fingerprint()) || strings.Contains(out.String(), "not a stop") {
		t.Fatalf("verify printed %q", out.String())
	}
	// Cut back to the start checkpoint, the chain is whole: verify must say
	// that it does not end as a stopped edge's log does.
	cut := filepath.Join(t.TempDir(), "audit-000001.jsonl")
	whole, _ := os.ReadFile(filepath.Join(dir, "audit-000001.jsonl"))
	if err := os.WriteFile(cut, bytes.SplitAfter(whole, []byte("\n"))[0], 0o640); err != nil {
		t.Fatal(err)
	}
	var cutOut bytes.Buffer
	if err := auditVerify(&cutOut, []string{cut}); err != nil || !strings.Contains(cutOut.String(), `last checkpoint is "start"`) {
		t.Fatalf("log cut after its start checkpoint: %v, printed %q; want a note that it has no stop", err, cutOut.String())
	}
	pub := filepath.Join(t.TempDir(), "device.pub")
	if err := os.WriteFile(pub, key.PublicKeyFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := auditVerify(&out, []string{"--pubkey", pub, dir}); err != nil {
		t.Fatalf("pinned key: %v", err)
	}

	exp := filepath.Join(t.TempDir(), "export")
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if err := auditExport(&out, []string{"--dir", dir, "--key", keyPath, "--from", from, "--to", to, "--out", exp}); err != nil {
		t.Fatal(err)
	}
	info, _ := os.ReadFile(filepath.Join(exp, audit.ExportInfo))
	if res, err := manifest.Check(exp, key.PublicKey()); err != nil || !res.OK() || !strings.Contains(string(info), `"records": 10`) {
		t.Fatalf("export %s sealed: %+v %v", info, res, err)
	}
	if err := auditVerify(&out, []string{filepath.Join(exp, audit.ExportRecords)}); err != nil {
		t.Fatalf("exported records: %v", err)
	}

	// One byte of record 5 changed.
	f := filepath.Join(dir, "audit-000001.jsonl")
	b, _ := os.ReadFile(f)
	lines := bytes.Split(b, []byte("\n"))
	i := bytes.Index(lines[4], []byte(`"occupancy":`)) + len(`"occupancy":`)
	lines[4][i] = '7'
	if err := os.WriteFile(f, bytes.Join(lines, []byte("\n")), 0o640); err != nil {
		t.Fatal(err)
	}
	err = auditVerify(&out, []string{dir})
	if exitcode.Code(err) != 1 || !strings.Contains(err.Error(), "record 5 (audit-000001.jsonl line 5)") {
		t.Fatalf("changed record 5: got %v, want exit 1 naming record 5", err)
	}
	err = auditExport(&out, []string{"--dir", dir, "--key", keyPath, "--from", from, "--to", to, "--out", t.TempDir()})
	if exitcode.Code(err) != 1 {
		t.Fatalf("export of a broken chain: %v", err)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		if err := auditVerify(&out, []string{bad}); exitcode.Code(err) != 2 {
			t.Fatalf("unreadable %s: got %v, want exit 2", bad, err)
		}
	}
}
