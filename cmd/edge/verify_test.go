package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/verify"
)

const scenarioDir = "../../testvideos/scenarios"

// runEdge runs bin with args and returns its exit code and output.
func runEdge(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Reports are signed: tests sign with a throwaway key, never the
	// user's own.
	cmd.Env = append(os.Environ(), "EDGE_DEVICE_KEY="+testKeyPath(t), "EDGE_AUDIT_DIR="+filepath.Join(filepath.Dir(testKeyPath(t)), "audit"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	return -1, ""
}

var (
	keyOnce sync.Once
	keyPath string
	keyErr  error
)

// testKeyPath is a device key path in a temporary folder, shared by every
// run of the binary in this test process. Its folder also holds the audit
// log that edge verify records reports in (EDGE_AUDIT_DIR), so that no test
// writes ./state/audit in the source tree.
func testKeyPath(t *testing.T) string {
	t.Helper()
	keyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edge-test-key")
		keyPath, keyErr = filepath.Join(dir, "device.key"), err
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return keyPath
}

func TestVerifyExitCodes(t *testing.T) {
	bin := binary(t)
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	cfg, clip := filepath.Join(doorway, "config.yaml"), filepath.Join(doorway, "clip.mp4")
	start := "--start=2026-03-01T12:00:00Z"
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"clean scenario", []string{"--config", cfg, "--camera", "corridor-cam", "--video", clip, start}, 0, "PASS"},
		{"raw clip as a recording", []string{"--config", cfg, "--camera", "corridor-cam", "--recording", clip}, 1, "first at frame 0"},
		{"no video", []string{"--config", cfg, "--camera", "corridor-cam"}, 2, "usage"},
		{"unknown camera", []string{"--config", cfg, "--camera", "nope", "--video", clip}, 2, "camera \"nope\""},
		{"bad config", []string{"--config", clip, "--camera", "corridor-cam", "--video", clip}, 2, "config"},
		{"unreadable video", []string{"--config", cfg, "--camera", "corridor-cam", "--video", cfg}, 2, "video"},
		{"bad start", []string{"--config", cfg, "--camera", "corridor-cam", "--video", clip, "--start", "yesterday"}, 2, "RFC 3339"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"verify", "--out", t.TempDir()}, tc.args...)
			code, out := runEdge(t, bin, args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, want %d with %q in:\n%s", code, tc.code, tc.out, out)
			}
		})
	}
}

// TestVerifyCatchesShiftedMask builds edge with a mask that paints every
// span two pixels too far left and expects verify to fail it.
func TestVerifyCatchesShiftedMask(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "edge-maskshift")
	if out, err := exec.Command("go", "build", "-tags", "maskshift", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags maskshift: %v\n%s", err, out)
	}
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	out := t.TempDir()
	code, text := runEdge(t, bin, "verify", "--config", filepath.Join(doorway, "config.yaml"), "--camera", "corridor-cam",
		"--video", filepath.Join(doorway, "clip.mp4"), "--out", out, "--start", "2026-03-01T12:00:00Z")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, text)
	}
	var rep verify.Report
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verify.Fail || rep.FramesLeaked == 0 || len(rep.Leaks) == 0 || rep.Leaks[0].Pixels == 0 {
		t.Fatalf("report: verdict %s, %d frames leaked, leaks %+v", rep.Verdict, rep.FramesLeaked, rep.Leaks)
	}
	// Even with a broken mask, the report's sample frames hold no private pixel.
	checkJPEGs(t, out, filepath.Join(doorway, "config.yaml"), "corridor-cam")

	// A report shows a site: no file readable by others.
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err != nil || fi.Mode().Perm()&0o027 != 0 {
			t.Errorf("%s: mode %v, want 0640 or tighter", e.Name(), fi.Mode().Perm())
		}
	}
	// The seal signs every file in the folder, so a used folder is refused
	// before anything else in it could be signed as this report.
	code, text = runEdge(t, bin, "verify", "--config", filepath.Join(doorway, "config.yaml"), "--camera", "corridor-cam",
		"--video", filepath.Join(doorway, "clip.mp4"), "--out", out, "--start", "2026-03-01T12:00:00Z")
	if code != 2 || !strings.Contains(text, "not empty") {
		t.Errorf("verify into a used folder: exit %d, want 2 naming the folder as not empty:\n%s", code, text)
	}
}

func checkJPEGs(t *testing.T, dir, cfgPath, camID string) {
	t.Helper()
	conf, err := configs.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cam, _ := conf.Camera(camID)
	cache := privacycheck.NewCache(verify.PrivacyPolygons(cam))
	files, _ := filepath.Glob(filepath.Join(dir, "sample-*.jpg"))
	if len(files) == 0 {
		t.Fatalf("no sample JPEGs in %s", dir)
	}
	for _, f := range files {
		m := gocv.IMRead(f, gocv.IMReadColor)
		px := privacycheck.Interior(cache.Get(m.Cols(), m.Rows()), 4)
		bgr := m.ToBytes()
		m.Close()
		res, err := privacycheck.Check(bgr, px, [3]uint8{}, 40)
		if err != nil || res.Checked == 0 {
			t.Fatalf("%s: %+v %v", f, res, err)
		}
		// A private pixel is the fill or, on a leak map, the signal colour
		// (or, after JPEG, a blend of the two): never picture.
		lc := verify.LeakColour
		leak := [3]float64{float64(lc.B), float64(lc.G), float64(lc.R)}
		picture := 0
		for _, i := range px.Idx {
			o := int(i) * 3
			p := [3]float64{float64(bgr[o]), float64(bgr[o+1]), float64(bgr[o+2])}
			// Distance from p to the segment fill (black) .. leak colour.
			k := min(max((p[0]*leak[0]+p[1]*leak[1]+p[2]*leak[2])/(leak[0]*leak[0]+leak[1]*leak[1]+leak[2]*leak[2]), 0), 1)
			if max(math.Abs(p[0]-k*leak[0]), math.Abs(p[1]-k*leak[1]), math.Abs(p[2]-k*leak[2])) > 40 {
				picture++
			}
		}
		if picture > 0 {
			t.Errorf("%s: %d private pixels show picture", f, picture)
		}
	}
}

// TestReportInBrowser loads report.html from disk in headless Debian
// chromium and looks for the verdict in the rendered DOM.
func TestReportInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed: run scripts/deps.sh")
	}
	bin := binary(t)
	cases := []struct {
		name, args, verdict string
		has, hasNot         []string
	}{
		{"pass", "--video", "PASS",
			[]string{`id="leak-chart"`, "Events timeline", "2026-03-01 12:00:00Z (given)", `id="privacy-zones"`, "changing-room-door", "51107", `id="build"`},
			[]string{`class="leak-map"`}},
		{"fail", "--recording", "FAIL",
			// The leak map on the failing sample, the per-frame chart, the
			// recording's unknown start, no detection sections.
			[]string{`class="leak-map"`, `<figure class="leak">`, `id="leak-chart"`, `<polyline points="`, "unknown (the recording names no start time)", `id="origin"`, `id="tracks"`},
			[]string{"Events timeline", "person detections", "yellow: person detected"}},
	}
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			runEdge(t, bin, "verify", "--config", filepath.Join(doorway, "config.yaml"), "--camera", "corridor-cam",
				tc.args, filepath.Join(doorway, "clip.mp4"), "--out", out, "--start", "2026-03-01T12:00:00Z")
			abs, err := filepath.Abs(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
				"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
				"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+abs)
			dom, err := cmd.Output()
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			want := `<div class="big">` + tc.verdict + `</div>`
			if !strings.Contains(string(dom), want) {
				t.Fatalf("rendered DOM lacks %q (%d bytes)", want, len(dom))
			}
			if n := strings.Count(string(dom), "data:image/jpeg;base64,"); n == 0 {
				t.Errorf("no embedded sample images in the DOM")
			}
			for _, h := range tc.has {
				if !strings.Contains(string(dom), h) {
					t.Errorf("rendered DOM lacks %q", h)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(string(dom), h) {
					t.Errorf("rendered DOM has %q, which does not apply", h)
				}
			}
			// The swatch is a real colour, not html/template's ZgotmplZ.
			if strings.Contains(string(dom), "ZgotmplZ") || !strings.Contains(string(dom), `id="fill-swatch" class="swatch" style="background:rgb(0,0,0)"`) {
				t.Errorf("fill swatch is not rgb(0,0,0)")
			}
			// Nothing loads from outside the folder.
			for _, ext := range []string{`src="http`, `href="http`, `url(http`, `src="//`, `@import`} {
				if strings.Contains(string(dom), ext) {
					t.Errorf("the page loads something from outside: %q", ext)
				}
			}
		})
	}
}

func TestZonesPreview(t *testing.T) {
	bin := binary(t)
	doorway := filepath.Join(scenarioDir, "privacy-doorway")
	cfg := filepath.Join(doorway, "config.yaml")
	png := filepath.Join(t.TempDir(), "preview.png")
	code, out := runEdge(t, bin, "zones", "preview", "--config", cfg, "--camera", "corridor-cam",
		"--video", filepath.Join(doorway, "clip.mp4"), "--frame", "90", "--out", png)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// PNG is lossless: every private pixel must be exactly the fill, even
	// with the figure standing in the doorway (frame 90).
	m := gocv.IMRead(png, gocv.IMReadColor)
	defer m.Close()
	if m.Empty() {
		t.Fatal("preview is not a readable PNG")
	}
	conf, _ := configs.Load(cfg)
	cam, _ := conf.Camera("corridor-cam")
	px := privacycheck.NewCache(verify.PrivacyPolygons(cam)).Get(m.Cols(), m.Rows())
	res, err := privacycheck.Check(m.ToBytes(), px, [3]uint8{}, 0)
	if err != nil || res.Leaked > 0 || res.Checked == 0 {
		t.Fatalf("preview leaks: %+v %v", res, err)
	}
	if code, _ := runEdge(t, bin, "zones", "preview", "--config", cfg, "--camera", "nope", "--video", filepath.Join(doorway, "clip.mp4"), "--out", png); code != 2 {
		t.Errorf("unknown camera: exit %d, want 2", code)
	}
}
