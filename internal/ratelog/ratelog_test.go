package ratelog_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/internal/syncbuf"
)

// TestOneLinePerInterval: 25 occurrences a second for 30 s give the first
// line and then one line every 10 s carrying the count.
func TestOneLinePerInterval(t *testing.T) {
	var buf syncbuf.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	l := ratelog.NewEvery(slog.New(slog.NewTextHandler(&buf, nil)), slog.LevelWarn, "restream encode failed", 10*time.Second, func() time.Time { return clock })
	for i := 0; i < 25*30; i++ {
		clock = now.Add(time.Duration(i) * 40 * time.Millisecond)
		l.Log("err", "odd size")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (first, +10 s, +20 s):\n%s", len(lines), buf.String())
	}
	if strings.Contains(lines[0], "repeated") {
		t.Errorf("first line carries a count: %s", lines[0])
	}
	for _, ln := range lines[1:] {
		if !strings.Contains(ln, "repeated=250") || !strings.Contains(ln, `err="odd size"`) {
			t.Errorf("line %q, want repeated=250 and the details", ln)
		}
	}
}
