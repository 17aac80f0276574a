package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestConsoleInBrowser uses the console as an operator would, in headless
// Chromium (installed by scripts/deps.sh): it draws a privacy zone with four
// clicks on the camera's masked picture and saves it, then checks the config
// file holds it with its comments, the audit log names the operator, and
// the next masked JPEG has the area filled; a polygon whose edges cross
// shows its error beside the zone and changes nothing.
//
// With EDGE_SCREENSHOTS=DIR it also writes console.png and zone-editor.png
// there (make screenshots refreshes docs/).
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a camera and a browser")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: run scripts/deps.sh (Debian package chromium)")
	}
	cr := startConsoleRun(t)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 900))...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(consoleUser+":"+consolePass))
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage:\n%.3000s", what, err, page)
		}
	}
	value := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
			return err
		})
	}
	shots := os.Getenv("EDGE_SCREENSHOTS")
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if shots != "" {
			if err := os.MkdirAll(shots, 0o755); err != nil {
				t.Fatalf("EDGE_SCREENSHOTS: %v", err)
			}
			if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	run("start the browser")
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	run("open the console",
		chromedp.Navigate(cr.base+"/#cameras"),
		chromedp.WaitVisible(chromedp.CSS(`#cam-lobby img`)),
		poll(`document.querySelector('#cam-lobby img').naturalWidth === 640`),
		poll(`document.querySelector('#live').textContent === 'live'`),
		poll(`document.querySelector('#cam-lobby .badge.status').textContent === 'streaming'`),
	)
	shot("console.png")

	run("open the zone editor",
		chromedp.Click(chromedp.CSS(`#cam-lobby a.edit`)),
		chromedp.WaitVisible(chromedp.CSS(`#ed-canvas`)),
		poll(`document.querySelector('#ed-canvas').width === 640 && state.editor.img.naturalWidth === 640`),
	)
	type box struct{ X, Y, W, H float64 }
	rect, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => { const r = document.querySelector('#ed-canvas').getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	clicks := func(pts [][2]float64) []chromedp.Action[chromedp.Void] {
		var as []chromedp.Action[chromedp.Void]
		for _, p := range pts {
			as = append(as, chromedp.MouseClickXY(rect.X+p[0]*rect.W, rect.Y+p[1]*rect.H))
		}
		return as
	}
	booth := [][2]float64{{0.55, 0.15}, {0.85, 0.15}, {0.85, 0.45}, {0.55, 0.45}}
	run("draw a privacy zone with four clicks", append([]chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#ed-new`))}, clicks(booth)...)...)
	pts := value("read the new zone", chromedp.Text(chromedp.CSS(`[data-zone="zone-3"] .pts`)))
	var x0, y0 float64
	if _, err := fmt.Sscanf(pts, "[%f, %f]", &x0, &y0); err != nil || strings.Count(pts, "[") != 4 || math.Abs(x0-0.55) > 0.005 || math.Abs(y0-0.15) > 0.005 {
		t.Fatalf("the new zone's points read %q, want four starting at about [0.55, 0.15]", pts)
	}
	at := func(x, y float64) (float64, float64) { return rect.X + x*rect.W, rect.Y + y*rect.H }
	x5, y5 := at(0.7, 0.3)
	run("add a fifth point and delete it with the Delete key", chromedp.MouseClickXY(x5, y5), chromedp.KeyEvent(kb.Delete))
	if pts := value("read the zone", chromedp.Text(chromedp.CSS(`[data-zone="zone-3"] .pts`))); strings.Count(pts, "[") != 4 {
		t.Fatalf("after deleting the fifth point the zone has %q", pts)
	}
	fx, fy := at(booth[0][0], booth[0][1])
	tx, ty := at(0.53, 0.13)
	run("drag the first point",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, fx, fy, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (fx+tx)/2, (fy+ty)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, tx, ty, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, tx, ty, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	pts = value("read the zone", chromedp.Text(chromedp.CSS(`[data-zone="zone-3"] .pts`)))
	if _, err := fmt.Sscanf(pts, "[%f, %f]", &x0, &y0); err != nil || strings.Count(pts, "[") != 4 || math.Abs(x0-0.53) > 0.005 || math.Abs(y0-0.13) > 0.005 {
		t.Fatalf("after dragging the first point to [0.53, 0.13] the zone reads %q", pts)
	}
	shot("zone-editor.png")

	run("save",
		chromedp.Click(chromedp.CSS(`#ed-save`)),
		poll(`document.querySelector('#ed-status').textContent.startsWith('Saved')`),
	)
	file := readFile(t, cr.cfgPath)
	for _, want := range []string{"id: zone-3", "kind: privacy", "# Console test site. This comment must survive every edit.", "# Left strip: stands in for a changing-room door."} {
		if !strings.Contains(string(file), want) {
			t.Errorf("config file lacks %q after the save:\n%s", want, file)
		}
	}
	var audit struct {
		Records []json.RawMessage `json:"records"`
	}
	cr.getJSON(t, "/api/audit?kind=config_change", &audit)
	var rec bytes.Buffer
	if len(audit.Records) > 0 {
		_ = json.Compact(&rec, audit.Records[0])
	}
	if !strings.Contains(rec.String(), `"user":"operator"`) || !strings.Contains(rec.String(), "zone-3") {
		t.Errorf("audit does not record the operator's change: %s", rec.String())
	}
	// Until the restarted pipeline masks its first frame there is none to
	// serve (503); the first one served already has the new zone.
	var jpg []byte
	waitFor(t, 15*time.Second, "the first frame after the save", func() bool {
		var code int
		code, _, jpg = cr.get(t, "/api/cameras/lobby/frame.jpg", true)
		return code == http.StatusOK
	})
	// Clicks land on whole pixels: shrink the drawn outline a little.
	inner := [][2]float64{{0.56, 0.16}, {0.84, 0.16}, {0.84, 0.44}, {0.56, 0.44}}
	if leaked, checked := filled(t, jpg, inner); leaked != 0 || checked < 1000 {
		t.Fatalf("the drawn privacy zone: %d of %d interior pixels not filled in the next masked JPEG", leaked, checked)
	}

	saved := readFile(t, cr.cfgPath)
	bowtie := [][2]float64{{0.2, 0.3}, {0.4, 0.6}, {0.4, 0.3}, {0.2, 0.6}}
	run("draw a polygon whose edges cross and save it", append(append([]chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#ed-new`))}, clicks(bowtie)...),
		chromedp.Click(chromedp.CSS(`#ed-save`)),
		poll(`document.querySelector('#ed-status').textContent.startsWith('Not saved')`))...)
	run("show the error", chromedp.ScrollIntoView(chromedp.CSS(`[data-zone="zone-4"] .problems`)))
	problem := value("read the error beside the zone", chromedp.Text(chromedp.CSS(`[data-zone="zone-4"] .problems`)))
	if !strings.Contains(problem, "cameras[lobby].zones[zone-4].polygon") || !strings.Contains(problem, "do not cross") {
		t.Fatalf("error beside zone-4 reads %q, want the polygon problem and its fix", problem)
	}
	shot("zone-editor-error.png")
	if !bytes.Equal(saved, readFile(t, cr.cfgPath)) {
		t.Fatal("the rejected polygon changed the config file")
	}
	fmt.Fprintln(os.Stderr) // keep chromedp's last log line apart from the test summary
}
