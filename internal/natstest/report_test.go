package natstest

import (
	"strings"
	"testing"
	"time"
)

// TestFailureReport: what a not-ready node answered is kept as its changes
// (repeats counted, the first and latest kept), and its log tail leaves out
// the warnings our own health polls caused.
func TestFailureReport(t *testing.T) {
	h := &history{since: time.Now()}
	h.add("connection refused")
	h.add("connection refused")
	h.add("JetStream has not established contact with a meta leader")
	for i := range 40 {
		h.add("consumer 'c" + strings.Repeat("x", i) + "' has no leader")
	}
	h.add("stream '$G > $MQTT_sess' has no leader")
	h.add("stream '$G > $MQTT_sess' has no leader")
	got := h.String()
	for _, want := range []string{"connection refused", "(the same 1 more times)", "meta leader", "$MQTT_sess' has no leader\n    (the same 1 more times)"} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n > 32 {
		t.Errorf("history has %d lines, want at most 32:\n%s", n, got)
	}
	if (*history)(nil).String() == "" {
		t.Error("a node never asked has no history line")
	}

	log := "a\n[WRN] Healthcheck failed: \"x\"\nb\nc\n[WRN] Healthcheck failed: \"y\"\nd\n"
	tail := logTail(log, 2)
	if tail != "c\nd\n(2 \"Healthcheck failed\" lines left out)" {
		t.Errorf("logTail = %q", tail)
	}
}
