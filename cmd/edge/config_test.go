package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/exitcode"
)

// TestConfigCheckSignLifecycle: every sign is listed with its lifecycle;
// warnings keep exit 0 unless --strict.
func TestConfigCheckSignLifecycle(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	signs := map[string]struct{ verified, expires, want string }{
		"ok":      {"2026-01-01", "2027-01-01", "sign ok: valid until 2027-01-01 (213 days), crowd-safety, used by cameras[a].zones[hall]"},
		"soon":    {"2026-01-01", "2026-06-20", "sign soon: WARNING expiring 2026-06-20 (in 18 days), crowd-safety, used by cameras[a]"},
		"edge30":  {"2026-01-01", "2026-07-01T12:00:00Z", "sign edge30: WARNING expiring 2026-07-01 (in 30 days)"},
		"past":    {"2025-01-01", "2026-05-01", "sign past: WARNING expired 2026-05-01 (31 days ago), crowd-safety, used by cameras[a].zones[yard]; until renewed"},
		"future":  {"2026-07-01", "2027-07-01", "sign future: WARNING not yet valid: verified_at 2026-07-01 is in the future, crowd-safety, used by nothing"},
		"edge31d": {"2026-01-01", "2026-07-02T12:00:01Z", "sign edge31d: valid until 2026-07-02 (31 days)"},
	}
	var reg strings.Builder
	for id, s := range signs {
		fmt.Fprintf(&reg, "  - {id: %s, purpose: crowd-safety, verified_at: %s, expires_at: %s}\n", id, s.verified, s.expires)
	}
	cfg := `site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:8554/a
    restream: true
    signage: soon
    zones:
      - {id: hall, kind: monitored, signage: ok, polygon: [[0.3, 0], [1, 0], [1, 0.5], [0.3, 0.5]]}
      - {id: yard, kind: monitored, signage: past, polygon: [[0.3, 0.5], [1, 0.5], [1, 1], [0.3, 1]]}
signage:
` + reg.String()
	path := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := configCheck(context.Background(), &out, now, []string{"check", path}); err != nil {
		t.Fatalf("warnings must not fail without --strict: %v", err)
	}
	for id, s := range signs {
		if !strings.Contains(out.String(), s.want) {
			t.Errorf("sign %s: want line containing %q in:\n%s", id, s.want, out.String())
		}
	}
	err := configCheck(context.Background(), &bytes.Buffer{}, now, []string{"check", "--strict", path})
	if exitcode.Code(err) != 1 || !strings.Contains(err.Error(), "4 sign warning(s)") {
		t.Fatalf("--strict: got %v, want exit 1 naming 4 warnings", err)
	}

	t.Run("strict fails on a lone pending sign, passes on valid ones", func(t *testing.T) {
		later := now.Add(-200 * 24 * time.Hour) // before "future" was verified: then only it warns
		err := configCheck(context.Background(), &bytes.Buffer{}, later, []string{"--strict", "check", path})
		if exitcode.Code(err) != 1 || !strings.Contains(err.Error(), "sign warning") {
			t.Fatalf("got %v", err)
		}
		clean := strings.NewReplacer("signage: soon", "signage: ok").Replace(cfg)
		var b strings.Builder
		for _, line := range strings.SplitAfter(clean, "\n") {
			if !strings.Contains(line, "{id: soon") && !strings.Contains(line, "{id: past") && !strings.Contains(line, "{id: future") &&
				!strings.Contains(line, "{id: edge30") && !strings.Contains(line, "id: yard") {
				b.WriteString(line)
			}
		}
		p := filepath.Join(t.TempDir(), "clean.yaml")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := configCheck(context.Background(), &bytes.Buffer{}, now, []string{"check", "--strict", p}); err != nil {
			t.Fatalf("valid signs with --strict: %v", err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		err := configCheck(context.Background(), &bytes.Buffer{}, now, []string{"check"})
		if exitcode.Code(err) != 2 {
			t.Fatalf("got %v, want usage with exit 2", err)
		}
	})
}
