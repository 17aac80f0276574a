package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/bench"
)

// TestBenchTwoCamerasJSON runs `edge bench` for two cameras of vtest.mp4
// for two seconds and checks that the report holds every figure, and that
// the figures agree with one another. It judges nothing about speed: the
// machine running the tests may be busy.
func TestBenchTwoCamerasJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := bench.Main(ctx, []string{"--clip", "../../testvideos/vtest.mp4", "--cameras", "2", "--seconds", "2", "--warmup", "500ms", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("edge bench: %v\n%s", err, errOut.String())
	}
	// The fields the issue names, present by name.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	for _, k := range []string{"cameras", "sustained", "decode_mask_fps", "ffmpeg_decode_fps", "p99_event_latency_ms", "rss_mb", "per_camera"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	var r bench.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Cameras != 2 || len(r.PerCamera) != 2 {
		t.Fatalf("cameras %d, per_camera %d; want 2 and 2", r.Cameras, len(r.PerCamera))
	}
	if r.Info.Width != 768 || r.Info.Height != 576 || r.Info.FPS != 10 {
		t.Errorf("clip info %+v, want 768x576 @ 10", r.Info)
	}
	if !(r.CapacityFPS > 0) || !(r.CapacityRatio > 0) {
		t.Errorf("decode+mask capacity %v fps, ratio %v: want positive", r.CapacityFPS, r.CapacityRatio)
	}
	if !(r.FFmpegDecodeFPS > 0) || !(r.DecodeMaskFPS > 0) || !(r.RSSMB > 0) || !(r.CPUPercent > 0) || r.Seconds < 2 {
		t.Errorf("ffmpeg %v fps, decode+mask %v fps, RSS %v MB, CPU %v%%, %v s: want all positive, window >= 2 s",
			r.FFmpegDecodeFPS, r.DecodeMaskFPS, r.RSSMB, r.CPUPercent, r.Seconds)
	}
	var received, decoded, masked, served uint64
	ids := map[string]bool{}
	for _, c := range r.PerCamera {
		ids[c.ID] = true
		if c.Masked == 0 || c.Masked > c.Decoded || c.Decoded > c.Received {
			t.Errorf("%s: received %d, decoded %d, masked %d: want 0 < masked <= decoded <= received", c.ID, c.Received, c.Decoded, c.Masked)
		}
		// The counts are of the measured window: a frame requested before
		// it opened may be served or skipped inside it. The pool holds at
		// most one pending and one running frame a camera.
		const inFlight = 2
		if c.DetectServed > c.DetectRequested+inFlight || c.DetectSkipped > c.DetectRequested+inFlight {
			t.Errorf("%s: detections requested %d, served %d, skipped %d", c.ID, c.DetectRequested, c.DetectServed, c.DetectSkipped)
		}
		if !(c.MotionFPS > 0) || c.P99MaskMS < c.P50MaskMS || c.P50MaskMS <= 0 {
			t.Errorf("%s: motion %v fps, mask latency p50 %v p99 %v ms", c.ID, c.MotionFPS, c.P50MaskMS, c.P99MaskMS)
		}
		if c.Sustained != (len(c.Why) == 0) {
			t.Errorf("%s: sustained %v but why %q", c.ID, c.Sustained, c.Why)
		}
		if _, ok := c.Drops["ingest"]; !ok {
			t.Errorf("%s: drops lack the ingest reason: %v", c.ID, c.Drops)
		}
		received, decoded, masked, served = received+c.Received, decoded+c.Decoded, masked+c.Masked, served+c.DetectServed
	}
	if len(ids) != 2 {
		t.Errorf("camera ids %v: want two distinct", ids)
	}
	if r.Received != received || r.Decoded != decoded || r.Masked != masked || r.DetectServed != served {
		t.Errorf("totals %d/%d/%d/%d are not the sums of the cameras %d/%d/%d/%d",
			r.Received, r.Decoded, r.Masked, r.DetectServed, received, decoded, masked, served)
	}
	allCams := r.PerCamera[0].Sustained && r.PerCamera[1].Sustained
	if r.Sustained && !allCams {
		t.Errorf("sustained overall although a camera was not: %+v", r.PerCamera)
	}
	if r.Sustained != (len(r.Why) == 0) {
		t.Errorf("sustained %v but why %q", r.Sustained, r.Why)
	}
}

// TestBenchDeliversEvents: vtest's pedestrians cross the bench's signed
// walkway all through the clip, so a run that finds people must receive
// events from the broker, every one the pipeline made, with their latency
// measured. It checks counts, not speed: the detector may be slow on a busy
// machine, but the people it finds in a window this long make events.
func TestBenchDeliversEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := bench.Main(ctx, []string{"--clip", "../../testvideos/vtest.mp4", "--cameras", "1", "--seconds", "8", "--warmup", "500ms", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("edge bench: %v\n%s", err, errOut.String())
	}
	var r bench.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.DetectServed == 0 || r.People == 0 {
		t.Fatalf("detections served %d, people found %d: want some on vtest", r.DetectServed, r.People)
	}
	if r.Events == 0 || r.Events < r.EventsMade {
		t.Fatalf("people %d, events made %d, delivered %d: want every event made delivered, and at least one", r.People, r.EventsMade, r.Events)
	}
	if !(r.P99EventMS > 0) {
		t.Errorf("%d events delivered but p99 arrival to event %v ms", r.Events, r.P99EventMS)
	}
}

func TestBenchRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--clip", "no-such-clip.mp4", "--cameras", "1", "--seconds", "1"},
		{"--clip", "../../testvideos/vtest.mp4", "--cameras", "0", "--seconds", "1"},
		{"--clip", "../../testvideos/vtest.mp4", "--cameras", "1", "--seconds", "0"},
	} {
		var out, errOut bytes.Buffer
		if err := bench.Main(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("edge bench %q: no error", args)
		}
	}
}
