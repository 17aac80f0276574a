package configs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
)

// TestSignUses: a sign covers the image outputs of the cameras that name it
// and the monitored zones that name it, in file order; a privacy zone's
// signage is no use of the sign, and a disabled camera still counts (its
// sign must be kept while it is in the file).
func TestSignUses(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(`site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:8554/a
    restream: true
    signage: s1
    zones:
      - {id: hall, kind: monitored, signage: s2, polygon: [[0.3, 0], [1, 0], [1, 0.5], [0.3, 0.5]]}
      - {id: door, kind: privacy, signage: s2, polygon: [[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]]}
      - {id: yard, kind: monitored, signage: s1, polygon: [[0.3, 0.5], [1, 0.5], [1, 1], [0.3, 1]]}
  - id: b
    url: rtsp://127.0.0.1:8554/b
    enabled: false
    zones:
      - {id: gate, kind: monitored, signage: s1, polygon: [[0.3, 0], [1, 0], [1, 0.5], [0.3, 0.5]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
  - {id: s2, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
  - {id: s3, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Cameras[0].SignUses(), []configs.SignUse{
		{Sign: "s1", Camera: "a"}, {Sign: "s2", Camera: "a", Zone: "hall"}, {Sign: "s1", Camera: "a", Zone: "yard"},
	}; !slices.Equal(got, want) {
		t.Errorf("camera a: %v, want %v", got, want)
	}
	want := map[string][]string{
		"s1": {"cameras[a]", "cameras[a].zones[yard]", "cameras[b].zones[gate]"},
		"s2": {"cameras[a].zones[hall]"},
		"s3": nil,
	}
	for _, st := range cfg.SignStates(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), configs.SignExpiryWarning) {
		if !slices.Equal(st.UsedBy, want[st.ID]) {
			t.Errorf("sign %s used by %q, want %q", st.ID, st.UsedBy, want[st.ID])
		}
	}
	if got := cfg.SignUsers("s3"); got != nil {
		t.Errorf("unused sign: %v, want nil", got)
	}
}
