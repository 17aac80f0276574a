package watch

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	cases := []struct {
		topic, payload string
		want           []string
	}{
		{"edge/lobby/events", `{"id":"e1","type":"enter","camera":"lobby","zone":"walkway","track_id":3,"occupancy":2,"score":0.9,"signage_id":"s","ts":"2026-01-01T10:00:00.5Z"}`,
			[]string{"EVENT", "enter", "camera=lobby", "zone=walkway", "track=3", "occupancy=2", "e1"}},
		{"edge/lobby/state", `{"camera":"lobby","status":"error","reason":"camera refused the credentials","zones":[{"id":"door","kind":"privacy"},{"id":"walkway","kind":"monitored","signage_status":"expired","detection_active":false,"occupancy":0}]}`,
			[]string{"STATE", "camera=lobby", "error", "reason=camera refused", "door=masked", "walkway=expired/detect-off/0"}},
		{"edge/lobby/walkway/occupancy", "4", []string{"OCCUPANCY", "lobby/walkway = 4"}},
		{"edge/available", "offline", []string{"AVAILABLE", "offline"}},
		{"edge/lobby/snapshot", "\xff\xd8\xff\xfe\x00,event=01a20848-bd60-761e-87fd-16d807156d8f\xff\xd9",
			[]string{"SNAPSHOT", "camera=lobby", "masked JPEG", "event=01a20848-bd60-761e-87fd-16d807156d8f"}},
		{"edge/lobby/snapshot", "", []string{"SNAPSHOT", "camera=lobby", "cleared"}},
		{"edge/lobby/events", `not json`, []string{"EVENT?"}},
	}
	for _, tc := range cases {
		t.Run(tc.topic, func(t *testing.T) {
			got := describe("edge", tc.topic, []byte(tc.payload))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Describe(%s) = %q, want it to contain %q", tc.topic, got, w)
				}
			}
			if strings.ContainsRune(got, '\xff') || strings.Contains(got, "\ufffd") {
				t.Errorf("binary payload printed: %q", got)
			}
		})
	}
}
