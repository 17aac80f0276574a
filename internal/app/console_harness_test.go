package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/replay"
)

// The console tests run the whole application against a real replayed
// camera: the clip is decoded, masked and analysed as in production, and
// the console is reached over HTTP on loopback.

const (
	consoleUser = "operator"
	consolePass = "correct horse battery staple"
)

// consoleConfig has comments the console's edits must keep.
const consoleConfig = `# Console test site. This comment must survive every edit.
site: console-test
mqtt:
  broker: ""          # embedded broker
  spool_dir: %[1]s
http:
  addr: 127.0.0.1:0   # replaced by Options.HTTPAddr
  username: %[3]s
  password: "%[4]s"
cameras:
  # The lobby camera: a synthetic person walks left to right.
  - id: lobby
    url: rtsp://viewer:cam-secret@%[2]s/synthetic-walk
    signage: lobby-sign
    detect: {fps: 5}
    zones:
      # Left strip: stands in for a changing-room door.
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.1, 0], [0.1, 1], [0, 1]]
      - id: walk
        kind: monitored
        signage: lobby-sign
        polygon: [[0.1, 0.2], [1, 0.2], [1, 1], [0.1, 1]]
signage:
  # Hangs at the lobby entrance.
  - id: lobby-sign
    purpose: crowd-safety
    text: CCTV in operation
    verified_at: 2026-01-01
    expires_at: 2030-01-01
`

// consoleRun is a running edge with its console.
type consoleRun struct {
	base, cfgPath, auditPath string
	cancel                   context.CancelFunc
	done                     chan error
}

func startConsoleRun(t *testing.T) *consoleRun {
	t.Helper()
	dir := t.TempDir()
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/synthetic-walk.mp4"},
		Username: "viewer", Password: "cam-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cam.Close)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freeport.TCP(t))
	cr := &consoleRun{base: "http://" + httpAddr, cfgPath: filepath.Join(dir, "edge.yaml"),
		auditPath: filepath.Join(dir, "audit"), done: make(chan error, 1)}
	writeFile(t, cr.cfgPath, fmt.Sprintf(consoleConfig, filepath.Join(dir, "spool"), cam.Addr(), consoleUser, consolePass))
	ctx, cancel := context.WithCancel(context.Background())
	cr.cancel = cancel
	go func() {
		cr.done <- Run(ctx, Options{ConfigPath: cr.cfgPath, AuditDir: cr.auditPath, KeyPath: filepath.Join(dir, "key", "device.key"), HTTPAddr: httpAddr,
			EmbeddedBroker: "127.0.0.1:0", Logger: quietLogger()})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-cr.done:
			if err != nil {
				t.Errorf("edge run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("edge run did not stop within 15 s")
		}
	})
	waitFor(t, 20*time.Second, "a masked frame from the console", func() bool {
		select {
		case err := <-cr.done:
			cr.done <- err
			t.Fatalf("edge run ended: %v", err)
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, cr.base+"/api/cameras/lobby/frame.jpg", nil)
		req.SetBasicAuth(consoleUser, consolePass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cr
}

// do sends a request; auth adds the operator's credentials.
func (cr *consoleRun) do(t *testing.T, method, path, body string, auth bool, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, cr.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if auth {
		req.SetBasicAuth(consoleUser, consolePass)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

func (cr *consoleRun) get(t *testing.T, path string, auth bool) (int, http.Header, []byte) {
	t.Helper()
	return cr.do(t, http.MethodGet, path, "", auth)
}

// getJSON GETs path with credentials and decodes a 200 answer into v.
func (cr *consoleRun) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, _, b := cr.get(t, path, true)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

// filled reports how many pixels of the interior of polygon (normalised) in
// the JPEG b are not the fill colour (black), and how many were checked.
func filled(t *testing.T, b []byte, poly [][2]float64) (leaked, checked int) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	bgr := make([]byte, 0, w*h*3)
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			bgr = append(bgr, byte(bl>>8), byte(g>>8), byte(r>>8))
		}
	}
	px := privacycheck.Interior(privacycheck.Region([]privacycheck.Polygon{poly}, w, h), 3)
	res, err := privacycheck.Check(bgr, px, [3]uint8{0, 0, 0}, 24)
	if err != nil {
		t.Fatal(err)
	}
	return res.Leaked, res.Checked
}

// jpegSize is the picture size of a JPEG.
func jpegSize(t *testing.T, b []byte) image.Point {
	t.Helper()
	c, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	return image.Pt(c.Width, c.Height)
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
