package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

const reloadBase = `
site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:8554/a
    record: {enabled: true, dir: /tmp/rec}
    signage: s1
    zones:
      - {id: door, kind: privacy, polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]}
      - {id: hall, kind: monitored, signage: s1, polygon: [[0.3, 0], [1, 0], [1, 1], [0.3, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`

func TestNeedsRestart(t *testing.T) {
	base, err := configs.LoadBytes([]byte(reloadBase))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to, want string
	}{
		{"zones and signage apply live", "expires_at: 2030-01-01", "expires_at: 2026-02-01", ""},
		{"polygon edits apply live", "[[0.3, 0], [1, 0], [1, 1], [0.3, 1]]", "[[0.4, 0], [1, 0], [1, 1], [0.4, 1]]", ""},
		{"recording switched off applies live (outputs.reconfigure)", "record: {enabled: true, dir: /tmp/rec}", "record: {enabled: false}", ""},
		{"restream and snapshots switched on apply live", "record: {enabled: true, dir: /tmp/rec}", "record: {enabled: true, dir: /tmp/rec}\n    restream: true\n    snapshots: {enabled: true}", ""},
		{"broker change needs a restart", "tcp://127.0.0.1:1883", "tcp://127.0.0.1:1884", "mqtt"},
		{"restream server change needs a restart", "signage:\n", "restream: {addr: 127.0.0.1:9000}\nsignage:\n", "restream"},
		{"a new camera with outputs needs a restart", "signage:\n", "  - {id: b, url: rtsp://127.0.0.1:8554/b, signage: s1, snapshots: {enabled: true}}\nsignage:\n", "cameras[b]"},
		{"removing a camera with outputs needs a restart", "  - id: a\n", "  - id: a\n    enabled: false\n", "cameras[a]"},
		{"console server change needs a restart", "signage:\n", "http: {addr: 127.0.0.1:9001}\nsignage:\n", "http"},
		{"a new camera without outputs applies live", "signage:\n", "  - {id: b, url: rtsp://127.0.0.1:8554/b}\nsignage:\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(reloadBase, tc.from, tc.to, 1)
			if src == reloadBase {
				t.Fatalf("edit %q did not apply", tc.from)
			}
			next, err := configs.LoadBytes([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got := needsRestart(base, next)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("needsRestart = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Fatalf("target holds %q", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("temporary files left: %v", ents)
	}
}
