package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
)

// A camera's counts begin again with each run (a reconnect, a restart by
// its supervisor), while its state's rate window spans runs: a window in
// which the count went down must not publish a wrapped-around uint64 as
// the input rate.
func TestInputFPSAcrossARestart(t *testing.T) {
	sink := &collect{}
	var masked int
	var stop context.CancelFunc
	stopAfter := 0
	cam, err := pipeline.NewCamera(pipeline.CameraConfig{
		Camera: "lobby", Source: pipeline.FileSource{Path: clip}, Zones: scene(start.Add(time.Hour)),
		Sink: sink, Offline: true, Start: start, DetectFPS: 1, Detect: detect.Config{Width: 640},
		OnMasked: func(*mask.Frame) {
			if masked++; masked == stopAfter {
				stop()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(frames int) {
		t.Helper()
		masked, stopAfter = 0, frames
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stop = cancel
		_ = cam.Run(ctx) //nolint:errcheck // stopped on purpose; the counts are what is checked
		if masked < frames {
			t.Fatalf("run masked %d frames, want %d", masked, frames)
		}
	}
	run(60)
	first := cam.State(time.Now(), nil)
	time.Sleep(300 * time.Millisecond)
	run(5)
	second := cam.State(time.Now(), nil)
	if second.FramesDecoded >= first.FramesDecoded {
		t.Fatalf("decoded %d then %d: the second run's counts did not begin again, the test cannot tell", first.FramesDecoded, second.FramesDecoded)
	}
	states := 0
	for _, m := range append(sink.all(), second) {
		st, ok := m.(events.State)
		if !ok {
			continue
		}
		states++
		if st.InputFPS < 0 || st.InputFPS > 1000 || st.ProcessedFPS < 0 || st.ProcessedFPS > 1000 {
			t.Errorf("state with input fps %.3g, processed fps %.3g (decoded %d): want no rate across the restart, not a wrap-around", st.InputFPS, st.ProcessedFPS, st.FramesDecoded)
		}
	}
	if states < 3 {
		t.Errorf("%d states checked, want the runs' own and the two asked for", states)
	}
}
