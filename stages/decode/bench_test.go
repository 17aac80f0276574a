package decode_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// BenchmarkDecode720p decodes the whole sample video scaled to 1280x720
// (795 pictures) to BGR Mats through the stage, and compares with the
// ffmpeg CLI decoding the same file on one thread, with and without the BGR
// conversion. Each iteration measures all three in turn, three rounds, and
// keeps the best time of each, so load from other processes skews them alike.
func BenchmarkDecode720p(b *testing.B) {
	path := testclip.Make(b, ".mp4", "-vf", "scale=1280:720", "-c:v", "libx264", "-preset", "veryfast", "-g", "50")
	aus := readAll(b, path)
	var ours, ff, ffBGR time.Duration
	best := func(cur *time.Duration, d time.Duration) {
		if *cur == 0 || d < *cur {
			*cur = d
		}
	}
	frames := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for range 3 {
			start := time.Now()
			frames = decodeAllRun(b, aus)
			best(&ours, time.Since(start))
			b.StopTimer()
			best(&ff, ffmpeg(b, "-threads", "1", "-i", path, "-f", "null", "-"))
			best(&ffBGR, ffmpeg(b, "-threads", "1", "-i", path, "-filter_threads", "1", "-pix_fmt", "bgr24", "-f", "null", "-"))
			b.StartTimer()
		}
	}
	fps := func(d time.Duration) float64 { return float64(frames) / d.Seconds() }
	b.ReportMetric(fps(ours), "frames/s")
	b.ReportMetric(fps(ff), "ffmpeg-frames/s")
	b.ReportMetric(fps(ffBGR), "ffmpeg-bgr-frames/s")
	b.ReportMetric(fps(ours)/fps(ff), "ours/ffmpeg")
	b.ReportMetric(fps(ours)/fps(ffBGR), "ours/ffmpeg-bgr")
}

func decodeAllRun(b *testing.B, aus []ingest.AccessUnit) int {
	d, err := decode.New(decode.Config{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	in := make(chan ingest.AccessUnit, len(aus))
	for _, au := range aus {
		in <- au
	}
	close(in)
	out := make(chan decode.Frame, 4)
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background(), in, out) }()
	n := 0
	for f := range out {
		n++
		f.Mat.Close()
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if st := d.Stats(); st.Errors != 0 || n != len(aus) {
		b.Fatalf("decoded %d of %d access units, %d errors", n, len(aus), st.Errors)
	}
	return n
}

// ffmpeg returns the wall time of one ffmpeg run, start-up included.
func ffmpeg(b *testing.B, args ...string) time.Duration {
	start := time.Now()
	if out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-nostdin"}, args...)...).CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return time.Since(start)
}
