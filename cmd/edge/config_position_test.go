package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsNameLineAndColumn: edge config check and edge run both point
// at the line and column of a bad key, and of a misindented line rather than
// the block yaml.v3 names.
func TestCommandsNameLineAndColumn(t *testing.T) {
	bin := binary(t)
	good := `site: s
mqtt: {broker: "tcp://127.0.0.1:1"}
cameras:
  - id: lobby
    url: rtsp://127.0.0.1:1/a
    zones:
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]
`
	dir := t.TempDir()
	cases := []struct{ name, src, want string }{
		{"unknown key", strings.Replace(good, "        kind: privacy\n", "        kind: privacy\n        colour: red\n", 1), "line 9, column 9: cameras[0].zones[0]: unknown key colour"},
		{"misindented", strings.Replace(good, "        polygon:", "       polygon:", 1), "line 9, column 8: YAML syntax"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		if err := os.WriteFile(path, []byte(c.src), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"config", "check", path}, {"run", "--config", path, "--http", "off", "--audit", filepath.Join(dir, "audit")}} {
			code, out := runEdge(t, bin, args...)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Errorf("%s: edge %s: exit %d, want an error naming %q:\n%s", c.name, args[0], code, c.want, out)
			}
		}
	}
}
