package pipeline_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/resourceleak"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/snapshot"
	"github.com/edgeprivacy/edge/zones"
)

// TestMain fails the run if a goroutine or (with -tags matprofile) a gocv
// Mat outlives the tests.
func TestMain(m *testing.M) { resourceleak.Main(m) }

// collect is a sink that keeps everything (unit tests of the wiring only;
// the end-to-end test uses a real broker).
type collect struct {
	mu   sync.Mutex
	msgs []events.Message
}

func (c *collect) Offer(m events.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	return true
}

func (c *collect) all() []events.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func poly(xy ...float64) zones.Polygon {
	var p zones.Polygon
	for i := 0; i+1 < len(xy); i += 2 {
		p = append(p, zones.Point{X: xy[i], Y: xy[i+1]})
	}
	return p
}

const clip = "../testvideos/vtest.mp4"

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// vtest's scene: people walk up and down the middle of a pedestrian precinct.
func scene(expires time.Time) *zones.Set {
	return zones.NewSet([]zones.Zone{
		{ID: "changing-room", Kind: zones.Privacy, Polygon: poly(0, 0, 0.25, 0, 0.25, 1, 0, 1)},
		{ID: "walkway", Kind: zones.Monitored, Signage: "sign-1", Polygon: poly(0.25, 0.35, 1, 0.35, 1, 1, 0.25, 1)},
		{ID: "unsigned", Kind: zones.Monitored, Signage: "never-registered", Polygon: poly(0.25, 0, 1, 0, 1, 0.35, 0.25, 0.35)},
	}, map[string]zones.Sign{"sign-1": {ID: "sign-1", Purpose: "footfall", VerifiedAt: start.Add(-time.Hour), ExpiresAt: expires}})
}

type run struct {
	msgs          []events.Message
	frames, leaks int
}

func runClip(t *testing.T, set *zones.Set, seconds time.Duration) run {
	t.Helper()
	if _, err := os.Stat(clip); err != nil {
		t.Fatalf("test clip: %v", err)
	}
	sink := &collect{}
	check := privacycheck.NewCache([]privacycheck.Polygon{{{0, 0}, {0.25, 0}, {0.25, 1}, {0, 1}}})
	var r run
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cam, err := pipeline.NewCamera(pipeline.CameraConfig{
		Site: "test", Camera: "lobby", Source: pipeline.FileSource{Path: clip}, Zones: set,
		Sink: sink, Offline: true, Start: start, DetectFPS: 3, Detect: detect.Config{Width: 640},
		OnMasked: func(f *mask.Frame) {
			r.frames++
			if f.PTS() > seconds {
				cancel()
			}
			sz := f.Size()
			m, err := f.BGR()
			if err != nil {
				t.Error(err)
				return
			}
			data, err := m.DataPtrUint8()
			if err != nil {
				t.Error(err)
				return
			}
			res, err := privacycheck.Check(data, check.Get(sz.X, sz.Y), [3]uint8{}, 0)
			if err == nil && res.Leaked == 0 {
				// The planes themselves, chroma rounding included (black
				// is Y 16, U and V 128).
				var pl yuv.Planes
				if pl, err = f.Planes(); err == nil {
					res, err = privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, check.Get(sz.X, sz.Y), [3]uint8{16, 128, 128}, 0)
				}
			}
			if err != nil || res.Leaked > 0 {
				r.leaks++
				t.Errorf("frame %d: %d private pixels leaked (%v)", f.Seq(), res.Leaked, err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Run(ctx); err != nil {
		t.Fatal(err)
	}
	r.msgs = sink.all()
	return r
}

func TestClipGivesEnterAndExitOnlyInSignedZone(t *testing.T) {
	r := runClip(t, scene(start.Add(24*time.Hour)), 30*time.Second)
	if r.frames < 250 {
		t.Fatalf("only %d frames went through the mask stage", r.frames)
	}
	var enters, exits int
	var last *events.State
	for _, m := range r.msgs {
		switch v := m.(type) {
		case events.Event:
			if v.Zone != "walkway" {
				t.Errorf("event names zone %q; only the signed walkway may appear", v.Zone)
			}
			if v.SignageID != "sign-1" || v.Purpose != "footfall" || v.Label != "person" || v.Camera != "lobby" {
				t.Errorf("event fields wrong: %+v", v)
			}
			if v.Type == events.TypeEnter {
				enters++
			} else {
				exits++
			}
		case events.State:
			last = &v
		}
	}
	t.Logf("%d frames, %d enters, %d exits, %d messages", r.frames, enters, exits, len(r.msgs))
	if enters == 0 || exits == 0 {
		t.Fatalf("want at least one enter and one exit, got %d and %d", enters, exits)
	}
	if last == nil {
		t.Fatal("no state published")
	}
	if last.FramesMasked == 0 || last.Width != 768 || last.Height != 576 {
		t.Errorf("final state %+v: want frames masked and 768x576", last)
	}
	for _, z := range last.Zones {
		switch z.ID {
		case "walkway":
			if z.SignageStatus != "valid" || !z.DetectionActive {
				t.Errorf("walkway state %+v, want valid and active", z)
			}
		case "unsigned":
			if z.SignageStatus != "missing" || z.DetectionActive {
				t.Errorf("unsigned state %+v, want missing and inactive", z)
			}
		}
	}
}

func TestExpiredSignStopsDetectionMidClip(t *testing.T) {
	expires := start.Add(8 * time.Second) // in stream time: the clip's 8th second
	r := runClip(t, scene(expires), 20*time.Second)
	var lastEventAt time.Time
	var sawExpired bool
	for _, m := range r.msgs {
		switch v := m.(type) {
		case events.Event:
			if v.TS.After(lastEventAt) {
				lastEventAt = v.TS
			}
		case events.State:
			for _, z := range v.Zones {
				if z.ID == "walkway" && z.SignageStatus == "expired" && !z.DetectionActive {
					sawExpired = true
				}
			}
		}
	}
	if !lastEventAt.IsZero() && !lastEventAt.Before(expires) {
		t.Errorf("event at %v, after the sign expired at %v", lastEventAt, expires)
	}
	if !sawExpired {
		t.Error("no state said the walkway's signage expired and detection stopped")
	}
}

// panicSource fails the way a bug would.
type panicSource struct{}

func (panicSource) Run(context.Context, chan<- media.AccessUnit) error { panic("source bug") }

// TestStagePanicFailsOnlyThisCamera: a panicking stage ends this pipeline
// with an error for the supervisor to restart, instead of the process.
func TestStagePanicFailsOnlyThisCamera(t *testing.T) {
	cam, err := pipeline.NewCamera(pipeline.CameraConfig{
		Camera: "buggy", Source: panicSource{}, Zones: scene(start.Add(time.Hour)), Sink: &collect{}, DetectFPS: 5, Detect: detect.Config{Width: 640},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = cam.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "panic: source bug") {
		t.Fatalf("Run = %v, want the source's panic as an error", err)
	}
}

// TestSnapshotOutputHoldsTheNewestFrame: the snapshot output is offered
// every masked frame (frames move forward into it; nothing reads back from
// the camera), holds the newest, masked, and is emptied when the run ends,
// so a restart under other zones serves nothing painted with the old ones.
func TestSnapshotOutputHoldsTheNewestFrame(t *testing.T) {
	latest := snapshot.NewLatest()
	check := privacycheck.NewCache([]privacycheck.Polygon{{{0, 0}, {0.25, 0}, {0.25, 1}, {0, 1}}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var seen, checked int
	cam, err := pipeline.NewCamera(pipeline.CameraConfig{
		Camera: "lobby", Source: pipeline.FileSource{Path: clip}, Zones: scene(start.Add(time.Hour)),
		Sink: &collect{}, Offline: true, Start: start, DetectFPS: 1, Detect: detect.Config{Width: 640},
		Outputs: []pipeline.Output{latest},
		// OnMasked sees each frame just before the outputs get it: the
		// output holds the one before.
		OnMasked: func(f *mask.Frame) {
			seen++
			prev := latest.Frame()
			switch {
			case seen == 1 && prev != nil:
				t.Error("the snapshot output held a frame before the first")
			case seen > 1 && prev == nil:
				t.Errorf("frame %d: the snapshot output holds nothing", f.Seq())
			case seen > 1:
				if prev.Seq() >= f.Seq() {
					t.Errorf("the snapshot output holds frame %d at frame %d", prev.Seq(), f.Seq())
				}
				sz := prev.Size()
				m, err := prev.BGR()
				if err != nil {
					t.Fatal(err)
				}
				data, err := m.DataPtrUint8()
				if err != nil {
					t.Fatal(err)
				}
				if res, err := privacycheck.Check(data, check.Get(sz.X, sz.Y), [3]uint8{}, 0); err != nil || res.Leaked > 0 {
					t.Errorf("held frame %d leaks %d private pixels (%v)", prev.Seq(), res.Leaked, err)
				}
				checked++
			}
			if prev != nil {
				prev.Close()
			}
			if seen == 10 {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("only %d held frames checked", checked)
	}
	if f := latest.Frame(); f != nil {
		f.Close()
		t.Error("the snapshot output still holds a frame after the run ended")
	}
}

// TestNewCameraNamesWhatIsMissing: a config without one of its required
// parts is refused with an error that names the camera and the part.
func TestNewCameraNamesWhatIsMissing(t *testing.T) {
	ok := pipeline.CameraConfig{Camera: "lobby", Source: pipeline.FileSource{Path: clip}, Zones: scene(start.Add(time.Hour)), Sink: &collect{}, DetectFPS: 3}
	if cam, err := pipeline.NewCamera(ok); err != nil || cam == nil {
		t.Fatalf("NewCamera(complete config) = %v, %v", cam, err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*pipeline.CameraConfig)
		wants string
	}{
		{"no id", func(c *pipeline.CameraConfig) { c.Camera = "" }, "camera id is empty"},
		{"no source", func(c *pipeline.CameraConfig) { c.Source = nil }, "camera lobby has no source"},
		{"no zones", func(c *pipeline.CameraConfig) { c.Zones = nil }, "camera lobby has no zone set"},
		{"no sink", func(c *pipeline.CameraConfig) { c.Sink = nil }, "camera lobby has no sink"},
		{"no detect fps", func(c *pipeline.CameraConfig) { c.DetectFPS = 0 }, "camera lobby: detect fps 0 is not positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			if _, err := pipeline.NewCamera(cfg); err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("NewCamera = %v, want an error saying %q", err, tc.wants)
			}
		})
	}
}
