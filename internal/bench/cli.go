package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"
)

// Main is `edge bench [--clip FILE] [--cameras N] [--seconds S] [--outputs]
// [--find-max] [--json]`: it prints the report (text, or one JSON object)
// to stdout, and a progress line to stderr when stderr is a terminal.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Clip, "clip", DefaultClip, "video `FILE` served as every camera (MP4 or MPEG-TS, H.264 or H.265)")
	fs.IntVar(&o.Cameras, "cameras", 1, "cameras to run (with --find-max: where the ramp starts)")
	fs.Float64Var(&o.Seconds, "seconds", 20, "measured window per run, after every camera has started")
	fs.BoolVar(&o.Outputs, "outputs", false, "also run each camera's restream, snapshots and recording")
	fs.StringVar(&o.Config, "config", "", "copy the zones and detector of a camera of this edge config `FILE` (default: the demo's zones, hog)")
	fs.StringVar(&o.CameraID, "camera-id", "", "the camera of --config to copy (default: the first)")
	findMax := fs.Bool("find-max", false, "ramp the camera count up to the largest the box sustains")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (every trial) to `FILE`, for go tool pprof")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "how long every camera must have been masking before the window opens")
	fs.DurationVar(&o.SampleRSSEvery, "rss-every", 0, "record the process's RSS this often (soak runs, e.g. 1m)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelError
	if os.Getenv("EDGE_LOG_LEVEL") != "" {
		_ = level.UnmarshalText([]byte(os.Getenv("EDGE_LOG_LEVEL")))
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("component", "bench")
	var progress io.Writer
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		progress, o.Progress = f, f
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	var r *Report
	var err error
	if *findMax {
		r, err = FindMax(ctx, o, progress)
	} else {
		r, err = Run(ctx, o)
	}
	if r == nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(r); e != nil {
			return e
		}
	} else if e := r.WriteText(stdout); e != nil {
		return e
	}
	return err
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startCPUProfile profiles the process into path until stop is called: the
// cameras, the replay server and the broker all run in it, so the profile
// says where a trial's CPU goes (docs/performance.md).
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: --cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: --cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
