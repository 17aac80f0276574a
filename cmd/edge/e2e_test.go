package main

// End-to-end tests with real parts only: the edge binary built from this
// package, its `replay` serving a real clip over RTSP on loopback, its `run`
// consuming it, a real Mosquitto carrying the events, and a paho subscriber.

import (
	"bufio"

	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/syncbuf"
)

var (
	buildOnce sync.Once
	edgeBin   string
	buildErr  error
)

// binary builds cmd/edge once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edge-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		edgeBin = filepath.Join(dir, "edge")
		out, err := exec.Command("go", "build", "-o", edgeBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return edgeBin
}

// proc is a child process whose output is kept for the failure message.
type proc struct {
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan error
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), out: &syncbuf.Buffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.stop(t, 10*time.Second)
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", name, tail(p.out.String(), 60))
		}
	})
	return p
}

// stop sends SIGTERM and waits; it returns the exit error (nil for 0).
func (p *proc) stop(t *testing.T, wait time.Duration) error {
	// Reading cmd.ProcessState here would race with Wait in start's
	// goroutine: whether it exited is what done says.
	select {
	case err := <-p.done:
		p.done <- err
		return err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s did not stop within %v of SIGTERM", p.cmd.Path, wait)
		return <-p.done
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// subscriber records everything under prefix/#. Its session is persistent,
// so QoS 1 messages published while it is cut off by a broker restart are
// queued for it by the broker.
type subscriber struct {
	mu       sync.Mutex
	events   []events.Event
	retained map[string][]byte
	client   paho.Client
}

func subscribe(t *testing.T, brokerURL, prefix, clientID string) *subscriber {
	t.Helper()
	s := &subscriber{retained: map[string][]byte{}}
	opts := paho.NewClientOptions().AddBroker(brokerURL).SetClientID(clientID).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetMaxReconnectInterval(time.Second).
		SetOnConnectHandler(func(c paho.Client) {
			c.Subscribe(prefix+"/#", 1, s.record(t))
		})
	s.client = paho.NewClient(opts)
	if tok := s.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { s.client.Disconnect(100) })
	return s
}

// record keeps events in order and the latest payload of every other topic.
func (s *subscriber) record(t *testing.T) paho.MessageHandler {
	return func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if strings.HasSuffix(m.Topic(), "/events") {
			var e events.Event
			if err := json.Unmarshal(m.Payload(), &e); err != nil {
				t.Errorf("bad event JSON on %s: %v: %s", m.Topic(), err, m.Payload())
				return
			}
			s.events = append(s.events, e)
			return
		}
		s.retained[m.Topic()] = slices.Clone(m.Payload())
	}
}

func (s *subscriber) snapshot() ([]events.Event, map[string][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := make(map[string][]byte, len(s.retained))
	for k, v := range s.retained {
		r[k] = v
	}
	return slices.Clone(s.events), r
}

// waitFor polls cond every 200 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func countTypes(evs []events.Event, zone string) (enters, exits int) {
	for _, e := range evs {
		if e.Zone != zone {
			continue
		}
		switch e.Type {
		case events.TypeEnter:
			enters++
		case events.TypeExit:
			exits++
		}
	}
	return
}

// readAudit returns the ids of the events edge produced, in order.
// readAudit returns the ids of the events in the audit folder dir, in order.
func readAudit(t *testing.T, dir string) []string {
	t.Helper()
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(readAuditText(t, dir)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Kind  string        `json:"kind"`
			Event *events.Event `json:"data"`
		}
		// A line being written may be partial.
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Kind == "event" && r.Event != nil {
			ids = append(ids, r.Event.ID)
		}
	}
	return ids
}

const e2eConfig = `
site: e2e
box_id: box1
mqtt:
  broker: %s
  topic_prefix: e2e
  qos: 1
  spool_dir: %s
cameras:
  - id: lobby
    url: rtsp://127.0.0.1:%d/vtest
    detect: {fps: 5, width: 768}
    zones:
      - id: changing-room
        kind: privacy
        polygon: [[0, 0], [0.25, 0], [0.25, 1], [0, 1]]
      - id: walkway
        kind: monitored
        signage: walkway-sign
        polygon: [[0.26, 0.22], [1, 0.12], [1, 0.95], [0.26, 0.62]]
      - id: loading-bay
        kind: monitored
        signage: bay-sign
        polygon: [[0.26, 0.63], [1, 0.96], [1, 1], [0.26, 1]]
  - id: broken
    url: rtsp://127.0.0.1:%d/nosuchclip
signage:
  - id: walkway-sign
    purpose: crowd-safety
    purpose_detail: pedestrian counting
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2099-01-01T00:00:00Z
  - id: bay-sign
    purpose: public-safety
    purpose_detail: loading bay safety
    verified_at: 2020-01-01T00:00:00Z
    expires_at: 2021-01-01T00:00:00Z
`

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	mq := mosquittotest.StartPersistent(t)
	dir := t.TempDir()
	rtspPort := freeport.TCP(t)
	start(t, "edge replay", "replay", "--addr", fmt.Sprintf("127.0.0.1:%d", rtspPort), "../../testvideos/vtest.mp4")

	cfgPath := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(e2eConfig, mq.URL(), filepath.Join(dir, "spool"), rtspPort, rtspPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, mq.URL(), "e2e", "e2e-subscriber")
	audit := filepath.Join(dir, "audit")
	run := start(t, "edge run", "run", "--config", cfgPath, "--audit", audit, "--key", filepath.Join(dir, "key", "device.key"), "--http", "127.0.0.1:0")

	// People walk through the signed walkway: at least one enter and one exit.
	waitFor(t, 150*time.Second, "an enter and an exit in the walkway", func() bool {
		evs, _ := sub.snapshot()
		en, ex := countTypes(evs, "walkway")
		return en > 0 && ex > 0
	})

	t.Run("events name only the signed zone", func(t *testing.T) {
		evs, _ := sub.snapshot()
		for _, e := range evs {
			if e.Zone != "walkway" {
				t.Errorf("event in zone %q: only the signed walkway may raise events: %+v", e.Zone, e)
			}
			if e.Camera != "lobby" || e.Site != "e2e" || e.SignageID != "walkway-sign" || e.Purpose != "crowd-safety" || e.PurposeDetail != "pedestrian counting" || e.Label != "person" {
				t.Errorf("event fields: %+v", e)
			}
			if e.TS.IsZero() || e.ID == "" {
				t.Errorf("event without id or time: %+v", e)
			}
		}
	})

	t.Run("the binary serves the console, health and metrics on --http", func(t *testing.T) {
		m := regexp.MustCompile(`operator console, API and metrics" url=(http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(run.out.String())
		if m == nil {
			t.Fatalf("edge run did not log the console's address:\n%s", tail(run.out.String(), 30))
		}
		for path, want := range map[string]string{"healthz": "ok", "readyz": "ready", "metrics": `edge_frames_masked_total{camera="lobby"}`, "": "<title>edge console</title>"} {
			resp, err := http.Get(m[1] + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
				t.Errorf("GET /%s: %d, want 200 with %q", path, resp.StatusCode, want)
			}
		}
	})

	t.Run("retained state and availability", func(t *testing.T) {
		late := subscribe(t, mq.URL(), "e2e", "e2e-late")
		var st events.State
		waitFor(t, 15*time.Second, "retained state of lobby", func() bool {
			_, ret := late.snapshot()
			b, ok := ret["e2e/e2e/box1/lobby/state"]
			return ok && json.Unmarshal(b, &st) == nil && st.Width > 0
		})
		if st.Status != "streaming" || st.Width != 768 || st.Height != 576 || st.FramesMasked == 0 {
			t.Errorf("state %+v: want streaming 768x576 with frames masked", st)
		}
		zs := map[string]events.ZoneState{}
		for _, z := range st.Zones {
			zs[z.ID] = z
		}
		if z := zs["walkway"]; z.SignageStatus != "valid" || !z.DetectionActive {
			t.Errorf("walkway %+v: want valid signage and detection active", z)
		}
		if z := zs["loading-bay"]; z.SignageStatus != "expired" || z.DetectionActive {
			t.Errorf("loading-bay %+v: want expired signage and detection off", z)
		}
		if z := zs["changing-room"]; z.Kind != "privacy" || z.DetectionActive {
			t.Errorf("changing-room %+v: want a privacy zone, never analysed", z)
		}
		_, ret := late.snapshot()
		if got := string(ret["e2e/e2e/box1/available"]); got != "online" {
			t.Errorf("available = %q, want online", got)
		}
		if _, ok := ret["e2e/e2e/box1/lobby/walkway/occupancy"]; !ok {
			t.Error("no retained occupancy for the walkway")
		}
		if _, ok := ret["e2e/e2e/box1/lobby/loading-bay/occupancy"]; !ok {
			t.Error("no retained occupancy for the loading bay")
		}
		// The broken camera is reported, and did not stop the other one.
		waitFor(t, 15*time.Second, "state of the broken camera", func() bool {
			_, ret := late.snapshot()
			var bs events.State
			return json.Unmarshal(ret["e2e/e2e/box1/broken/state"], &bs) == nil && bs.Status == "error" && bs.Reason != ""
		})
	})

	t.Run("broker outage loses nothing", func(t *testing.T) {
		before := len(readAudit(t, audit))
		mq.Stop()
		outageStart := time.Now()
		// Keep the broker down for 10 s while people go on walking.
		time.Sleep(10 * time.Second)
		during := len(readAudit(t, audit)) - before
		mq.Restart()
		t.Logf("%d events produced during the 10 s outage (%v)", during, time.Since(outageStart).Round(time.Second))
		if during == 0 {
			t.Fatal("no event was produced during the outage; the test proves nothing")
		}
		want := readAudit(t, audit)
		waitFor(t, 60*time.Second, "every produced event at the subscriber", func() bool {
			evs, _ := sub.snapshot()
			seen := map[string]bool{}
			for _, e := range evs {
				seen[e.ID] = true
			}
			for _, id := range want {
				if !seen[id] {
					return false
				}
			}
			return true
		})
		evs, _ := sub.snapshot()
		var got []string
		seen := map[string]bool{}
		for _, e := range evs {
			if !seen[e.ID] { // QoS 1 may redeliver: dedupe by id
				seen[e.ID] = true
				got = append(got, e.ID)
			}
		}
		if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
			t.Fatalf("events out of order or missing:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("reload: a bad config is rejected, an expired sign stops detection", func(t *testing.T) {
		good, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		// An invalid edit (a self-intersecting walkway) must not be applied.
		bad := strings.Replace(string(good), "[[0.26, 0.22], [1, 0.12], [1, 0.95], [0.26, 0.62]]", "[[0.26, 0.22], [1, 0.95], [1, 0.12], [0.26, 0.62]]", 1)
		writeConfig(t, cfgPath, bad)
		_ = run.cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, 15*time.Second, "the rejected reload in the audit log", func() bool {
			return strings.Contains(readAuditText(t, audit), `"kind":"config_rejected"`)
		})
		// The walkway sign expires: detection there stops, and the state says so.
		expired := strings.Replace(string(good), "expires_at: 2099-01-01T00:00:00Z", "expires_at: 2026-01-02T00:00:00Z", 1)
		writeConfig(t, cfgPath, expired)
		_ = run.cmd.Process.Signal(syscall.SIGHUP)
		late := subscribe(t, mq.URL(), "e2e", "e2e-reload")
		waitFor(t, 30*time.Second, "state: walkway signage expired, detection off", func() bool {
			_, ret := late.snapshot()
			var st events.State
			if json.Unmarshal(ret["e2e/e2e/box1/lobby/state"], &st) != nil {
				return false
			}
			for _, z := range st.Zones {
				if z.ID == "walkway" {
					return z.SignageStatus == "expired" && !z.DetectionActive && z.Occupancy == 0
				}
			}
			return false
		})
		// No event about the walkway may follow once the expired config is applied.
		time.Sleep(3 * time.Second)
		n := len(readAudit(t, audit))
		time.Sleep(5 * time.Second)
		if m := len(readAudit(t, audit)); m != n {
			t.Errorf("%d events produced after the walkway's sign expired", m-n)
		}
		if !strings.Contains(readAuditText(t, audit), `"reason":"reload"`) {
			t.Error("no config reload in the audit log")
		}
	})

	if err := run.stop(t, 15*time.Second); err != nil {
		t.Errorf("edge run exit: %v", err)
	}
	waitFor(t, 10*time.Second, "available=offline after shutdown", func() bool {
		_, ret := sub.snapshot()
		return string(ret["e2e/e2e/box1/available"]) == "offline"
	})
	if out := run.out.String(); strings.Contains(out, "panic") {
		t.Errorf("edge run panicked:\n%s", tail(out, 40))
	}
	// The real run's audit chain is whole, from start to the signed stop.
	if code, out := runEdge(t, binary(t), "audit", "verify", audit); code != 0 || !strings.Contains(out, "audit chain whole") {
		t.Errorf("edge audit verify on the run's log: exit %d\n%s", code, out)
	}
	for _, kind := range []string{`"kind":"start"`, `"kind":"stop"`, `"reason":"stop"`, `"kind":"sign_status"`} {
		if !strings.Contains(readAuditText(t, audit), kind) {
			t.Errorf("no %s record in the audit log", kind)
		}
	}

}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // atomic, as editors and config tools do
		t.Fatal(err)
	}
}

// readAuditText is every audit file in dir, in order.
func readAuditText(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	var b strings.Builder
	for _, f := range files {
		b.WriteString(readFile(t, f))
	}
	return b.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
