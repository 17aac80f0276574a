package configs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
)

// commented is validYAML with comments that edits must keep.
const commented = `# site comment
site: test-site
mqtt:
  broker: tcp://127.0.0.1:1883 # line comment
cameras:
  # camera comment
  - id: lobby
    url: rtsp://user:pw@127.0.0.1:8554/cam
    zones:
      # door comment
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]
      - id: walkway
        kind: monitored
        signage: sign-1
        polygon: [[0.3, 0.3], [0.9, 0.3], [0.9, 0.9], [0.3, 0.9]]
signage:
  # sign comment
  - id: sign-1
    purpose: crowd-safety
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2030-01-01T00:00:00Z
`

func TestSetZonesKeepsComments(t *testing.T) {
	want := []configs.Zone{
		{ID: "door", Kind: "privacy", Polygon: [][]float64{{0, 0}, {0.25, 0}, {0.25, 1}, {0, 1}}},
		{ID: "booth", Kind: "privacy", Polygon: [][]float64{{0.5, 0.1}, {0.6, 0.1}, {0.6, 0.2}}},
	}
	out, err := configs.SetZones([]byte(commented), "lobby", want)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"# site comment", "# line comment", "# camera comment", "# door comment", "# sign comment"} {
		if !strings.Contains(string(out), c) {
			t.Errorf("comment %q lost:\n%s", c, out)
		}
	}
	if !strings.Contains(string(out), "polygon: [[0.5, 0.1], [0.6, 0.1], [0.6, 0.2]]") {
		t.Errorf("new polygon not written on one line:\n%s", out)
	}
	c, err := configs.LoadBytes(out)
	if err != nil {
		t.Fatalf("edited config does not load: %v\n%s", err, out)
	}
	got := c.Cameras[0].Zones
	if len(got) != 2 || got[0].ID != "door" || got[0].Polygon[1][0] != 0.25 || got[1].ID != "booth" || got[1].Signage != "" {
		t.Fatalf("zones after edit: %+v", got)
	}
	if c.Cameras[0].URL != "rtsp://user:pw@127.0.0.1:8554/cam" || c.MQTT.Broker != "tcp://127.0.0.1:1883" {
		t.Fatalf("untouched keys changed: %v", c)
	}
}

func TestSignEdits(t *testing.T) {
	s := configs.Sign{ID: "sign-2", Text: "CCTV: counting", Purpose: "crowd-safety", PurposeDetail: "queue length", Operator: "ops: yes",
		VerifiedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)}
	out, err := configs.PutSign([]byte(commented), s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.LoadBytes(out)
	if err != nil {
		t.Fatalf("config with new sign does not load: %v\n%s", err, out)
	}
	if len(c.Signage) != 2 || c.Signage[1] != s {
		t.Fatalf("signage after add: %+v", c.Signage)
	}
	// Editing sign-1 keeps its comment and replaces its fields.
	s.ID, s.Purpose = "sign-1", "fire-safety"
	if out, err = configs.PutSign(out, s); err != nil {
		t.Fatal(err)
	}
	if c, err = configs.LoadBytes(out); err != nil {
		t.Fatal(err)
	}
	if len(c.Signage) != 2 || c.Signage[0].Purpose != "fire-safety" || !strings.Contains(string(out), "# sign comment") {
		t.Fatalf("edit of sign-1: %+v\n%s", c.Signage, out)
	}
	if out, err = configs.DeleteSign(out, "sign-2"); err != nil {
		t.Fatal(err)
	}
	if c, err = configs.LoadBytes(out); err != nil || len(c.Signage) != 1 {
		t.Fatalf("after delete: %v %+v", err, c)
	}
	// Deleting a sign a zone refers to writes YAML that validation refuses.
	if out, err = configs.DeleteSign(out, "sign-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := configs.LoadBytes(out); err == nil || !strings.Contains(err.Error(), `signage "sign-1" is not registered`) {
		t.Fatalf("deleting a sign in use: %v", err)
	}
}

func TestEditNotFound(t *testing.T) {
	if _, err := configs.SetZones([]byte(commented), "nope", nil); !errors.Is(err, configs.ErrNotFound) {
		t.Errorf("SetZones on unknown camera: %v", err)
	}
	if _, err := configs.DeleteSign([]byte(commented), "nope"); !errors.Is(err, configs.ErrNotFound) {
		t.Errorf("DeleteSign of unknown sign: %v", err)
	}
	if _, err := configs.SetZones([]byte("- a\n- b\n"), "lobby", nil); err == nil {
		t.Error("SetZones on a YAML list: no error")
	}
	if _, err := configs.SetZones([]byte("a: [\n"), "lobby", nil); err == nil {
		t.Error("SetZones on broken YAML: no error")
	}
}

func TestRedactYAML(t *testing.T) {
	raw := []byte(commented + `restream: {addr: "127.0.0.1:8554", username: v, password: "s3cret-rtsp"}
http: {username: op, password: s3cret-http}
`)
	raw = []byte(strings.Replace(string(raw), "tcp://127.0.0.1:1883", "tcp://u:s3cret-mqtt@127.0.0.1:1883?token=s3cret-tok", 1))
	doc, err := configs.RedactYAML(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprint(doc)
	for _, secret := range []string{"s3cret", ":pw@"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q left in redacted config: %s", secret, s)
		}
	}
	if !strings.Contains(s, "rtsp://***@127.0.0.1:8554/cam") || !strings.Contains(s, "username:op") {
		t.Errorf("redaction removed too much: %s", s)
	}
}
