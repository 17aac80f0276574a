package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportSealed: a verify report folder is signed; edge report check and
// the stock minisign tool both catch each kind of tampering.
func TestReportSealed(t *testing.T) {
	bin := binary(t)
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	dir := t.TempDir()
	// The raw clip as a recording: a FAIL report an operator would love to edit.
	code, out := runEdge(t, bin, "verify", "--config", filepath.Join(doorway, "config.yaml"), "--camera", "corridor-cam",
		"--recording", filepath.Join(doorway, "clip.mp4"), "--out", dir, "--samples", "1")
	if code != 1 || !strings.Contains(out, "MANIFEST.minisig") {
		t.Fatalf("verify: exit %d, want 1 and a signed report:\n%s", code, out)
	}
	code, out = runEdge(t, bin, "key", "show")
	pub := filepath.Join(t.TempDir(), "device.pub")
	if code != 0 {
		t.Fatalf("key show: exit %d\n%s", code, out)
	}
	// The first two lines are the minisign public key file.
	lines := strings.SplitN(out, "\n", 3)
	if err := os.WriteFile(pub, []byte(lines[0]+"\n"+lines[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	minisign := func() error {
		return exec.Command("minisign", "-V", "-p", pub, "-m", filepath.Join(dir, "MANIFEST")).Run()
	}
	if code, out := runEdge(t, bin, "report", "check", dir, "--pubkey", pub); code != 0 || !strings.Contains(out, "OK") {
		t.Fatalf("untouched report: exit %d\n%s", code, out)
	}
	if code, out := runEdge(t, bin, "report", "check", dir); code != 0 {
		t.Fatalf("untouched report with this device's key: exit %d\n%s", code, out)
	}
	if err := minisign(); err != nil {
		t.Fatalf("minisign rejects an untouched report: %v", err)
	}

	// FAIL edited to PASS in report.json and report.html.
	for _, f := range []string{"report.json", "report.html"} {
		p := filepath.Join(dir, f)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "FAIL", "PASS")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out = runEdge(t, bin, "report", "check", dir, "--pubkey", pub)
	if code != 1 || !strings.Contains(out, "changed: report.json") || !strings.Contains(out, "changed: report.html") {
		t.Fatalf("edited report: exit %d, want 1 naming both files:\n%s", code, out)
	}
	// A forger who also rewrites the manifest's hashes breaks the signature,
	// which the independent tool sees.
	mf := filepath.Join(dir, "MANIFEST")
	b, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, append(b, []byte("# re-hashed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if minisign() == nil {
		t.Error("minisign accepts an edited MANIFEST")
	}
	if code, out := runEdge(t, bin, "report", "check", dir, "--pubkey", pub); code != 1 || !strings.Contains(out, "signature does not match") {
		t.Errorf("edited manifest: exit %d, want 1 naming the signature:\n%s", code, out)
	}
	samples, _ := filepath.Glob(filepath.Join(dir, "sample-*.jpg"))
	if len(samples) == 0 {
		t.Fatal("no sample in the report")
	}
	if err := os.Remove(samples[0]); err != nil {
		t.Fatal(err)
	}
	if code, out := runEdge(t, bin, "report", "check", dir, "--pubkey", pub); code != 1 || !strings.Contains(out, "removed: "+filepath.Base(samples[0])) {
		t.Errorf("removed sample: exit %d\n%s", code, out)
	}
	if code, out := runEdge(t, bin, "report", "check", t.TempDir(), "--pubkey", pub); code != 2 {
		t.Errorf("folder without a manifest: exit %d, want 2\n%s", code, out)
	}
}
