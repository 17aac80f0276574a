package pipeline_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// TestReconfigureAddingZoneKeepsTrack: a reload that adds a zone while a
// person is tracked reaches the running camera without a restart: the
// person is not entered a second time into the zone they are already in,
// their track id stays, and the new zone counts them under that same id.
func TestReconfigureAddingZoneKeepsTrack(t *testing.T) {
	const walk = "../testvideos/synthetic-walk.mp4" // one figure, left to right at mid height
	signs := map[string]zones.Sign{"s": {ID: "s", Purpose: "crowd-safety", VerifiedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}}
	floor := zones.Zone{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: poly(0, 0, 1, 0, 1, 1, 0, 1)}
	right := zones.Zone{ID: "right", Kind: zones.Monitored, Signage: "s", Polygon: poly(0.6, 0, 1, 0, 1, 1, 0.6, 1)}

	sink := &collect{}
	base := pipeline.CameraConfig{Site: "test", Camera: "walk", Source: pipeline.FileSource{Path: walk}, Sink: sink,
		Offline: true, Start: start, DetectFPS: 5, Detect: detect.Config{Width: 640}}
	cfg := base
	cfg.Zones = zones.NewSet([]zones.Zone{floor}, signs)
	next := base
	next.Zones = zones.NewSet([]zones.Zone{floor, right}, signs)
	nextCam, err := pipeline.NewCamera(next)
	if err != nil {
		t.Fatal(err)
	}
	var cam *pipeline.Camera
	reloaded := false
	cfg.OnMasked = func(f *mask.Frame) {
		// At 2 s the figure is tracked in floor, left of the new zone.
		if !reloaded && f.PTS() >= 2*time.Second {
			reloaded = true
			if err := cam.Reconfigure(nextCam); err != nil {
				t.Error(err)
			}
		}
	}
	if cam, err = pipeline.NewCamera(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cam.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if !reloaded {
		t.Fatal("the clip ended before the reload")
	}
	enters := map[string][]int{}
	var firstEnterAt time.Time
	for _, m := range sink.all() {
		if e, ok := m.(events.Event); ok && e.Type == events.TypeEnter {
			enters[e.Zone] = append(enters[e.Zone], e.TrackID)
			if e.Zone == "floor" && firstEnterAt.IsZero() {
				firstEnterAt = e.TS
			}
		}
	}
	t.Logf("enters by zone (track ids): %v", enters)
	if len(enters["floor"]) != 1 {
		t.Fatalf("floor entered %d times, want once: a reload must not re-enter a tracked person", len(enters["floor"]))
	}
	if !firstEnterAt.Before(start.Add(2 * time.Second)) {
		t.Fatalf("the floor enter came at %v, after the reload: the test did not reload mid-track", firstEnterAt.Sub(start))
	}
	if len(enters["right"]) != 1 {
		t.Fatalf("the added zone saw %d enters, want 1 (the reload did not reach the running camera?)", len(enters["right"]))
	}
	if enters["right"][0] != enters["floor"][0] {
		t.Errorf("track id changed across the reload: %d in floor, %d in right", enters["floor"][0], enters["right"][0])
	}
}

// TestReconfigurePrivacyInPlace: a reload that adds a privacy zone while a
// person is tracked reaches the running camera without a restart (one run,
// the same track id, no second enter), every frame masked from the reload
// on has the new zone filled, and every frame masked before it is stale
// (its outputs and the detector drop it). Widening the zone later is
// effective from the next frame, and removing it unmasks from the next
// epoch.
func TestReconfigurePrivacyInPlace(t *testing.T) {
	const walk = "../testvideos/synthetic-walk.mp4" // one figure, left to right at mid height
	signs := map[string]zones.Sign{"s": {ID: "s", Purpose: "crowd-safety", VerifiedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}}
	floor := zones.Zone{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: poly(0, 0, 1, 0, 1, 1, 0, 1)}
	// Top corners: the figure walks at mid height, below them.
	booth := zones.Zone{ID: "booth", Kind: zones.Privacy, Polygon: poly(0.7, 0, 1, 0, 1, 0.2, 0.7, 0.2)}
	wider := booth
	wider.Polygon = poly(0.6, 0, 1, 0, 1, 0.25, 0.6, 0.25)

	sink := &collect{}
	var starts int
	base := pipeline.CameraConfig{Site: "test", Camera: "walk", Source: pipeline.FileSource{Path: walk}, Sink: sink,
		Offline: true, Start: start, DetectFPS: 5, Detect: detect.Config{Width: 640}, OnStart: func(*pipeline.Camera) { starts++ }}
	build := func(zs ...zones.Zone) *pipeline.Camera {
		c := base
		c.Zones = zones.NewSet(zs, signs)
		cam, err := pipeline.NewCamera(c)
		if err != nil {
			t.Fatal(err)
		}
		return cam
	}
	steps := []struct {
		at   time.Duration
		next *pipeline.Camera
		want []zones.Polygon // privacy polygons every later frame must have filled
	}{
		{2 * time.Second, build(floor, booth), []zones.Polygon{booth.Polygon}},
		{3 * time.Second, build(floor, wider), []zones.Polygon{wider.Polygon}},
		{4 * time.Second, build(floor), nil},
	}
	cfg := base
	cfg.Zones = zones.NewSet([]zones.Zone{floor}, signs)
	var (
		cam       *pipeline.Camera
		step      int
		want      []zones.Polygon
		before    []*mask.Frame // one frame masked before each reload, kept
		checked   int
		unmasked  int // frames after the removal whose former zone was not all fill
		fillLuma  = yuv.FromBGRColor([3]uint8{})
		epochs    []uint64
		afterSeen bool
		stale     int
	)
	cfg.OnMasked = func(f *mask.Frame) {
		if f.Stale() {
			// Masked before a reload and queued behind the mask stage:
			// every output and the detector drop it.
			stale++
			return
		}
		if want != nil {
			sz := f.Size()
			pl, err := f.Planes()
			if err != nil {
				t.Fatal(err)
			}
			var polys []privacycheck.Polygon
			for _, p := range want {
				var q privacycheck.Polygon
				for _, v := range p {
					q = append(q, [2]float64{v.X, v.Y})
				}
				polys = append(polys, q)
			}
			res, err := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, privacycheck.Region(polys, sz.X, sz.Y), [3]uint8{fillLuma.Y, fillLuma.U, fillLuma.V}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if res.Leaked > 0 || res.Checked == 0 {
				t.Errorf("frame %d at %v (after reload %d): %d of %d private pixels not filled", f.Seq(), f.PTS(), step, res.Leaked, res.Checked)
			}
			checked++
		}
		if step == len(steps) && !afterSeen {
			// The booth was removed: its pixels show the picture again.
			afterSeen = true
			pl, _ := f.Planes()
			sz := f.Size()
			x, y := int(0.85*float64(sz.X)), int(0.1*float64(sz.Y))
			if pl.Y[y*pl.YStride+x] == fillLuma.Y {
				unmasked++
			}
		}
		if step < len(steps) && f.PTS() >= steps[step].at {
			before = append(before, f.Ref())
			if err := cam.Reconfigure(steps[step].next); err != nil {
				t.Fatal(err)
			}
			epochs = append(epochs, cam.MaskEpoch())
			want = steps[step].want
			step++
			if !before[len(before)-1].Stale() {
				t.Errorf("reload %d: a frame masked before it is not stale", step)
			}
		}
	}
	var err error
	if cam, err = pipeline.NewCamera(cfg); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, f := range before {
			f.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := cam.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if step != len(steps) {
		t.Fatalf("the clip ended after %d of %d reloads", step, len(steps))
	}
	if starts != 1 {
		t.Fatalf("the pipeline started %d times, want once: a privacy change must not restart it", starts)
	}
	if !slices.Equal(epochs, []uint64{2, 3, 4}) {
		t.Errorf("mask epochs after the reloads %v, want [2 3 4]", epochs)
	}
	if unmasked != 0 {
		t.Errorf("the removed zone is still filled after its removal")
	}
	t.Logf("%d frames checked after the reloads, %d stale ones seen; epochs %v", checked, stale, epochs)
	enters := map[string][]int{}
	for _, m := range sink.all() {
		if e, ok := m.(events.Event); ok && e.Type == events.TypeEnter {
			enters[e.Zone] = append(enters[e.Zone], e.TrackID)
		}
	}
	t.Logf("enters by zone (track ids): %v", enters)
	if len(enters["floor"]) != 1 {
		t.Fatalf("floor entered %d times, want once: a privacy reload must not re-enter a tracked person", len(enters["floor"]))
	}
	if checked < 10 || stale == 0 {
		t.Fatalf("%d frames checked after the reloads and %d stale ones seen: the test did not exercise the swap", checked, stale)
	}
}

// TestReconfigureTrackSettings: track_score and hold_seconds reach the
// running tracker through Reconfigure. The walk is entered under the
// default track score; raised to 1 (no box reaches it) at the first frame,
// before anyone is tracked, nobody is entered, though the detector and the
// zones are the same.
func TestReconfigureTrackSettings(t *testing.T) {
	const walk = "../testvideos/synthetic-walk.mp4"
	signs := map[string]zones.Sign{"s": {ID: "s", Purpose: "crowd-safety", VerifiedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}}
	floor := zones.Zone{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: poly(0, 0, 1, 0, 1, 1, 0, 1)}
	run := func(reload bool) int {
		sink := &collect{}
		cfg := pipeline.CameraConfig{Site: "test", Camera: "walk", Source: pipeline.FileSource{Path: walk}, Sink: sink,
			Offline: true, Start: start, DetectFPS: 5, Detect: detect.Config{Width: 640},
			Zones: zones.NewSet([]zones.Zone{floor}, signs)}
		next := cfg
		next.Zones = zones.NewSet([]zones.Zone{floor}, signs)
		next.Track = track.Config{HighScore: 1, Hold: 500 * time.Millisecond}
		nextCam, err := pipeline.NewCamera(next)
		if err != nil {
			t.Fatal(err)
		}
		var cam *pipeline.Camera
		done := false
		cfg.OnMasked = func(*mask.Frame) {
			if reload && !done {
				done = true
				if err := cam.Reconfigure(nextCam); err != nil {
					t.Error(err)
				}
			}
		}
		if cam, err = pipeline.NewCamera(cfg); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := cam.Run(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range sink.all() {
			if e, ok := m.(events.Event); ok && e.Type == events.TypeEnter {
				n++
			}
		}
		return n
	}
	if n := run(false); n != 1 {
		t.Fatalf("without a reload the walk was entered %d times, want 1", n)
	}
	if n := run(true); n != 0 {
		t.Errorf("after raising track_score to 1 the walk was entered %d times, want 0: the reload did not reach the tracker", n)
	}
}
