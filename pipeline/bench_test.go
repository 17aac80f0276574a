package pipeline_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
)

// BenchmarkPipeline720p runs one 720p camera through every stage (decode,
// mask, motion gate, detection at 5 fps of stream time, tracking) as fast as
// it goes, beside ffmpeg's single-thread decode of the same clip. The ratio
// says how much of a bare decoder's speed the whole pipeline keeps.
func BenchmarkPipeline720p(b *testing.B) {
	clip := testclip.Make(b, ".mp4", "-t", "30", "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast", "-g", "20", "-bf", "0", "-an")
	frames := testclip.CountFrames(b, clip)

	var ours, ff time.Duration
	for i := 0; i < b.N; i++ {
		n := 0
		cam, err := pipeline.NewCamera(pipeline.CameraConfig{
			Site: "bench", Camera: "c720", Source: pipeline.FileSource{Path: clip}, Zones: scene(start.Add(time.Hour)),
			Sink: &collect{}, Offline: true, Start: start, DetectFPS: 5, Detect: detect.Config{Width: 640},
			OnMasked: func(*mask.Frame) { n++ },
		})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := cam.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		if n != frames {
			b.Fatalf("pipeline masked %d frames, ffprobe counts %d", n, frames)
		}

		t0 = time.Now()
		if out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-threads", "1", "-i", clip, "-f", "null", "-").CombinedOutput(); err != nil {
			b.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		ff += time.Since(t0)
	}
	fps := func(d time.Duration) float64 { return float64(frames*b.N) / d.Seconds() }
	b.ReportMetric(fps(ours), "pipeline-frames/s")
	b.ReportMetric(fps(ff), "ffmpeg-decode-frames/s")
	b.ReportMetric(fps(ours)/fps(ff), "pipeline/ffmpeg")
	b.ReportMetric(0, "ns/op")
}
