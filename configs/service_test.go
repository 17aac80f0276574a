package configs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceUnitVerifies runs systemd's own checker on configs/edge.service
// (make install's unit): every key known, every value parsed. It needs no
// running systemd; the binary the unit names is replaced by this test's own
// executable, since verify also checks that it exists. A typo such as
// NoNewPrivilege= or ProtectSystem=strictly is only a warning to systemd,
// which then runs the service without that protection, so any output fails.
func TestServiceUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	unit, err := os.ReadFile("edge.service")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/edge ") {
		t.Fatal("edge.service does not start /usr/local/bin/edge: update this test with the unit")
	}
	path := filepath.Join(t.TempDir(), "edge.service")
	if err := os.WriteFile(path, []byte(strings.Replace(string(unit), "/usr/local/bin/edge", self, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify edge.service: %v\n%s", err, out)
	}
}
