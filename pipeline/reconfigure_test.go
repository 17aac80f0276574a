package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
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

// TestReconfigureRefusesPrivacyChange: frames masked under the old privacy
// zones are in flight; only a restart drops them, so a privacy change is
// never applied in place.
func TestReconfigureRefusesPrivacyChange(t *testing.T) {
	signs := map[string]zones.Sign{"s": {ID: "s", Purpose: "crowd-safety", VerifiedAt: start.Add(-time.Hour), ExpiresAt: start.Add(time.Hour)}}
	floor := zones.Zone{ID: "floor", Kind: zones.Monitored, Signage: "s", Polygon: poly(0, 0, 1, 0, 1, 1, 0, 1)}
	door := zones.Zone{ID: "door", Kind: zones.Privacy, Polygon: poly(0, 0, 0.2, 0, 0.2, 1, 0, 1)}
	build := func(zs ...zones.Zone) *pipeline.Camera {
		c, err := pipeline.NewCamera(pipeline.CameraConfig{Camera: "c", Source: pipeline.FileSource{}, Sink: &collect{}, Zones: zones.NewSet(zs, signs), DetectFPS: 5, Detect: detect.Config{Width: 640}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	wider := door
	wider.Polygon = poly(0, 0, 0.3, 0, 0.3, 1, 0, 1)
	for name, next := range map[string]*pipeline.Camera{
		"added":   build(floor, door),
		"moved":   build(floor, wider),
		"removed": build(floor),
	} {
		cur := build(floor)
		if name == "moved" || name == "removed" {
			cur = build(floor, door)
		}
		if err := cur.Reconfigure(next); !errors.Is(err, pipeline.ErrPrivacyChanged) {
			t.Errorf("privacy zone %s: Reconfigure = %v, want ErrPrivacyChanged", name, err)
		}
	}
	if err := build(floor, door).Reconfigure(build(door)); err != nil {
		t.Errorf("removing a monitored zone: %v", err)
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
