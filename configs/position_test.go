package configs_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

// positionBase is a valid config; each case breaks one line of it.
const positionBase = `site: s
mqtt:
  broker: tcp://127.0.0.1:1883
cameras:
  - id: lobby
    url: rtsp://127.0.0.1:8554/a
    signage: cam
    detect:
      fps: 5
    zones:
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]
  - id: hall
    url: rtsp://127.0.0.1:8554/b
    signage: cam
    zones:
      - id: floor
        kind: monitored
        signage: zone
        polygon:
          - [0.3, 0]
          - [1, 0]
          - [1, 1]
          - [0.3, 1]
signage:
  - {id: cam, purpose: public-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-06-01T00:00:00Z}
  - {id: zone, purpose: crowd-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-06-01T00:00:00Z}
`

var linePos = regexp.MustCompile(`line (\d+), column (\d+): `)

// TestErrorsNameLineAndColumn breaks the config in ways a person does and
// checks that every error names the line and column of what is wrong: the
// text found there in the file is what the case broke.
func TestErrorsNameLineAndColumn(t *testing.T) {
	if _, err := configs.LoadBytes([]byte(positionBase)); err != nil {
		t.Fatalf("base config: %v", err)
	}
	cases := []struct {
		name     string
		old, new string
		at       string // the text the error's position must point at
		msg      string
	}{
		{"misindented key deep in the second camera (yaml.v3 names the block start)",
			"        polygon:\n", "       polygon:\n", "polygon:", "YAML syntax"},
		{"misindented list item",
			"          - [1, 1]\n", "        - [1, 1]\n", "- [1, 1]", "YAML syntax"},
		{"wrong type deep in a zone", "        kind: monitored", "        kind: [monitored]", "[monitored]", "kind: expected type 'string'"},
		{"wrong type of a camera setting", "      fps: 5", "      fps: fast", "fast", "detect.fps"},
		{"unknown key in a zone", "        signage: zone\n", "        signage: zone\n        colour: red\n", "colour:", "unknown key colour"},
		{"misspelt key", "        kind: monitored", "        knid: monitored", "knid:", "did you mean kind?"},
		{"unknown top-level key", "site: s\n", "site: s\nsitee: t\n", "sitee:", "unknown key sitee"},
		{"point out of range in a block list", "          - [1, 1]", "          - [1.5, 1]", "[1.5, 1]", "point 3 has x=1.5"},
		{"point out of range in a flow list", "[0.2, 1], [0, 1]]", "[0.2, 1.2], [0, 1]]", "[0.2, 1.2]", "point 3 has y=1.2"},
		{"point that is not a number", "          - [1, 1]", `          - [1, "x"]`, `"x"`, "cannot parse value as 'float64'"},
		{"point with three numbers", "          - [1, 0]", "          - [1, 0, 1]", "[1, 0, 1]", "point 2 has 3 numbers"},
		{"repeated point", "          - [0.3, 1]", "          - [1, 0]", "[1, 0]", "points 2 and 4"},
		{"purpose outside the vocabulary", "purpose: crowd-safety", "purpose: marketing", "marketing", "purpose"},
		{"unregistered zone sign", "        signage: zone", "        signage: zones", "zones", "not registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(positionBase, c.old) {
				t.Fatalf("base lacks %q", c.old)
			}
			src := strings.Replace(positionBase, c.old, c.new, 1)
			_, err := configs.LoadBytes([]byte(src))
			if err == nil {
				t.Fatal("accepted")
			}
			var line string
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.Contains(l, c.msg) {
					line = l
				}
			}
			m := linePos.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("no line naming %q with a position in:\n%v", c.msg, err)
			}
			ln, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			lines := strings.Split(src, "\n")
			if ln < 1 || ln > len(lines) || col < 1 || col > len(lines[ln-1]) || !strings.HasPrefix(lines[ln-1][col-1:], c.at) {
				t.Fatalf("%s points at line %d column %d, not at %q:\n%v", line, ln, col, c.at, err)
			}
		})
	}
}

// TestSyntaxErrorType: a syntax error is a *SyntaxError naming the line at
// fault and the block yaml.v3 named.
func TestSyntaxErrorType(t *testing.T) {
	src := strings.Replace(positionBase, "        polygon:\n", "       polygon:\n", 1)
	_, err := configs.LoadBytes([]byte(src))
	var se *configs.SyntaxError
	if !errors.As(err, &se) || se.Line != 21 || se.Column != 8 || se.Block >= se.Line {
		t.Fatalf("got %#v (%v), want line 21 column 8 and an earlier block", se, err)
	}
}
