package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/console"
	"github.com/edgeprivacy/edge/stages/mask"
)

// backend is a config and nothing else: these tests are about the HTTP
// rules, which need no camera (internal/app tests the console on a real one).
type backend struct {
	cfg     *configs.Config
	changes int
}

func (b *backend) Config() *configs.Config      { return b.cfg }
func (b *backend) ConfigFile() (string, []byte) { return "edge.yaml", []byte("site: s\n") }
func (b *backend) Latest(string) *mask.Frame    { return nil }
func (b *backend) Ready() error                 { return nil }
func (b *backend) ViewAllowed(id string) (bool, string) {
	if c, ok := b.cfg.Camera(id); ok && c.Signage != "" {
		return true, ""
	}
	return false, "no sign"
}
func (b *backend) Change(_ context.Context, _, _ string, _ func([]byte) ([]byte, error)) error {
	b.changes++
	return nil
}

const cfgYAML = `
site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - {id: a, url: "rtsp://127.0.0.1:1/a", signage: s1}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`

func server(t *testing.T, h configs.HTTP) (*httptest.Server, *backend, *console.Events) {
	t.Helper()
	cfg, err := configs.LoadBytes([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	h.Addr = "127.0.0.1:0"
	b := &backend{cfg: cfg}
	ev := console.NewEvents(3)
	s, err := console.New(console.Config{HTTP: h, Backend: b, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	s.Close() // httptest serves the handler instead
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, b, ev
}

func request(t *testing.T, ts *httptest.Server, method, path, host, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader("[]"))
	req.Header.Set("Content-Type", "application/json")
	if host != "" {
		req.Host = host
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAnonymousOnlyOnLoopbackNames(t *testing.T) {
	ts, b, _ := server(t, configs.HTTP{})
	cases := []struct {
		host string
		want int
	}{
		{"", http.StatusOK}, // 127.0.0.1:port
		{"localhost:8080", http.StatusOK},
		{"[::1]:8080", http.StatusOK},
		{"attacker.example:8080", http.StatusMisdirectedRequest}, // DNS rebinding
		{"192.168.1.10:8080", http.StatusMisdirectedRequest},
	}
	for _, c := range cases {
		if got := request(t, ts, http.MethodGet, "/api/cameras", c.host, "", ""); got != c.want {
			t.Errorf("Host %q: %d, want %d", c.host, got, c.want)
		}
	}
	if got := request(t, ts, http.MethodPut, "/api/cameras/a/zones", "evil.example", "", ""); got != http.StatusMisdirectedRequest || b.changes != 0 {
		t.Errorf("change through a rebound name: %d, %d changes", got, b.changes)
	}
	// Health checks answer whatever the name.
	if got := request(t, ts, http.MethodGet, "/healthz", "attacker.example", "", ""); got != http.StatusOK {
		t.Errorf("healthz: %d", got)
	}
}

func TestAllowAnonymous(t *testing.T) {
	ts, b, _ := server(t, configs.HTTP{AllowAnonymous: true})
	cases := []struct {
		host string
		want int
	}{
		{"192.168.1.10:8080", http.StatusOK},
		{"[fd00::10]:8080", http.StatusOK},
		{"[::1]", http.StatusOK},
		{"localhost", http.StatusOK},
		// A name may be a page that rebound its own name to this box.
		{"edge.lan:8080", http.StatusMisdirectedRequest},
		{"attacker.example:8080", http.StatusMisdirectedRequest},
	}
	for _, c := range cases {
		if got := request(t, ts, http.MethodGet, "/api/cameras", c.host, "", ""); got != c.want {
			t.Errorf("allow_anonymous, Host %q: %d, want %d", c.host, got, c.want)
		}
	}
	if got := request(t, ts, http.MethodPut, "/api/cameras/a/zones", "attacker.example:8080", "", ""); got != http.StatusMisdirectedRequest || b.changes != 0 {
		t.Errorf("change through a rebound name with allow_anonymous: %d, %d changes", got, b.changes)
	}
}

func TestBasicAuth(t *testing.T) {
	ts, b, _ := server(t, configs.HTTP{Username: "op", Password: "pw"})
	cases := []struct {
		user, pass string
		want       int
	}{
		{"op", "pw", http.StatusOK},
		{"", "", http.StatusUnauthorized},
		{"op", "", http.StatusUnauthorized},
		{"op", "p", http.StatusUnauthorized},
		{"op", "pww", http.StatusUnauthorized},
		{"OP", "pw", http.StatusUnauthorized},
		{"pw", "op", http.StatusUnauthorized},
	}
	for _, c := range cases {
		if got := request(t, ts, http.MethodGet, "/api/signage", "", c.user, c.pass); got != c.want {
			t.Errorf("%q/%q: %d, want %d", c.user, c.pass, got, c.want)
		}
	}
	// With credentials any Host is fine (TLS and a password guard it).
	if got := request(t, ts, http.MethodGet, "/api/signage", "edge.lan", "op", "pw"); got != http.StatusOK {
		t.Errorf("authenticated from edge.lan: %d", got)
	}
	if got := request(t, ts, http.MethodPut, "/api/cameras/a/zones", "", "op", "pw"); got != http.StatusOK || b.changes != 1 {
		t.Errorf("authenticated change: %d, %d changes", got, b.changes)
	}
}

func TestFrameGate(t *testing.T) {
	ts, b, _ := server(t, configs.HTTP{})
	// A valid sign and no frame yet: 503. No sign at all: 403.
	if got := request(t, ts, http.MethodGet, "/api/cameras/a/frame.jpg", "", "", ""); got != http.StatusServiceUnavailable {
		t.Errorf("no frame yet: %d, want 503", got)
	}
	b.cfg.Cameras[0].Signage = ""
	if got := request(t, ts, http.MethodGet, "/api/cameras/a/frame.jpg", "", "", ""); got != http.StatusForbidden {
		t.Errorf("camera without a sign: %d, want 403", got)
	}
}

func TestRecentEventsAndStream(t *testing.T) {
	ts, _, ev := server(t, configs.HTTP{})
	sink := ev.Sink(discard{})

	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/events/stream", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, z := range []string{"z1", "z2", "z1", "z2"} {
		sink.Offer(events.Event{ID: fmt.Sprint(i), Camera: "a", Zone: z, Type: events.TypeEnter, TS: t0.Add(time.Duration(i) * time.Minute)})
	}
	got := ev.Recent(console.EventQuery{Limit: 10})
	if len(got) != 3 || got[0].ID != "3" || got[2].ID != "1" {
		t.Fatalf("recent keeps the newest 3, newest first; got %v", ids(got))
	}
	if got := ev.Recent(console.EventQuery{Zone: "z1", Limit: 10}); len(got) != 1 || got[0].ID != "2" {
		t.Errorf("zone filter: %v", ids(got))
	}
	if got := ev.Recent(console.EventQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(3 * time.Minute), Limit: 10}); len(got) != 1 || got[0].ID != "2" {
		t.Errorf("time filter: %v", ids(got))
	}
	buf := make([]byte, 4096)
	var seen strings.Builder
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(seen.String(), "event: event") < 4 && time.Now().Before(deadline) {
		n, err := resp.Body.Read(buf)
		seen.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	if c := strings.Count(seen.String(), "event: event"); c != 4 {
		t.Fatalf("stream carried %d of 4 events:\n%s", c, seen.String())
	}
}

type discard struct{}

func (discard) Offer(events.Message) bool { return true }

func ids(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestAuditEventsBothFormats(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	lines := `{"ts":"2026-05-01T12:00:00Z","kind":"event","event":{"id":"plain","type":"enter","camera":"a","zone":"z","ts":"2026-05-01T12:00:00Z"}}
{"seq":2,"ts":"2026-05-01T12:01:00Z","kind":"event","prev":"x","data":{"id":"chained","type":"exit","camera":"a","zone":"z","ts":"2026-05-01T12:01:00Z"},"hash":"y"}
{"seq":3,"ts":"2026-05-01T12:02:00Z","kind":"config","prev":"y","data":{"id":"not-an-event"},"hash":"z"}
not json at all
{"seq":4,"ts":"2026-05-01T12:03:00Z","kind":"event","prev":"z","data":{"event":{"id":"nested","type":"enter","camera":"b","zone":"z","ts":"2026-05-01T12:03:00Z"}},"hash":"w"}
`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := console.New(console.Config{HTTP: configs.HTTP{Addr: "127.0.0.1:0"}, Backend: &backend{cfg: cfg}, Events: console.NewEvents(1), AuditPath: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	get := func(q string) []string {
		resp, err := ts.Client().Get(ts.URL + "/api/events?source=audit" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Events []events.Event }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return ids(out.Events)
	}
	if got := get(""); strings.Join(got, ",") != "nested,chained,plain" {
		t.Errorf("audit events %v, want nested,chained,plain (newest first, config record skipped)", got)
	}
	if got := get("&camera=a&type=enter"); strings.Join(got, ",") != "plain" {
		t.Errorf("filtered audit events %v", got)
	}
	if got := get("&limit=1"); strings.Join(got, ",") != "nested" {
		t.Errorf("limit 1: %v", got)
	}
}

// TestSignageUsedBy: each sign lists the cameras whose image outputs it
// permits ("a") and the monitored zones it permits analysing ("a/hall"), in
// file order; a privacy zone is no use, and an unused sign lists none ([],
// not null, which the page joins).
func TestSignageUsedBy(t *testing.T) {
	ts, b, _ := server(t, configs.HTTP{})
	cfg, err := configs.LoadBytes([]byte(`site: s
mqtt: {broker: "tcp://127.0.0.1:1883"}
cameras:
  - id: a
    url: rtsp://127.0.0.1:1/a
    signage: s1
    zones:
      - {id: hall, kind: monitored, signage: s1, polygon: [[0.3, 0], [1, 0], [1, 0.5], [0.3, 0.5]]}
      - {id: door, kind: privacy, signage: s1, polygon: [[0, 0], [0.2, 0], [0.2, 0.2], [0, 0.2]]}
  - id: b
    url: rtsp://127.0.0.1:1/b
    zones:
      - {id: gate, kind: monitored, signage: s1, polygon: [[0.3, 0], [1, 0], [1, 0.5], [0.3, 0.5]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
  - {id: s2, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	b.cfg = cfg
	resp, err := ts.Client().Get(ts.URL + "/api/signage")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var signs []struct {
		ID     string   `json:"id"`
		UsedBy []string `json:"used_by"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&signs); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"s1": {"a", "a/hall", "b/gate"}, "s2": {}}
	if len(signs) != len(want) {
		t.Fatalf("%d signs, want %d", len(signs), len(want))
	}
	for _, s := range signs {
		if s.UsedBy == nil || !slices.Equal(s.UsedBy, want[s.ID]) {
			t.Errorf("sign %s used by %#v, want %#v", s.ID, s.UsedBy, want[s.ID])
		}
	}
}
