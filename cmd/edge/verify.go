package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
	"github.com/edgeprivacy/edge/internal/verify"
)

// version is the tool version written into reports; set it at build time
// with -ldflags "-X main.version=1.2.3".
var version = "dev"

// cmdVerify is `edge verify`: a test video through the production pipeline
// (or a recording made elsewhere, decoded and leak-checked), a report out.
// Exit codes: 0 PASS, 1 FAIL, 2 usage or input error, 3 INCONCLUSIVE
// (something could not be checked; never a pass).
func cmdVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config `FILE` (YAML)")
	camera := fs.String("camera", "", "camera `ID` whose zones and signage apply")
	video := fs.String("video", "", "test video `FILE` to run through the production pipeline")
	recording := fs.String("recording", "", "existing recording `FILE` to decode and leak-check (instead of --video)")
	out := fs.String("out", "", "report `DIR` (report.json, report.html, sample JPEGs)")
	start := fs.String("start", "", "wall-clock `TIME` (RFC 3339) of the first frame, for judging signage; default now")
	samples := fs.Int("samples", verify.DefaultSamples, "masked sample frames in the report")
	truth := fs.String("truth", "", "ground-truth `FILE` (JSON, docs/accuracy.md): score the run's events against it (precision, recall, enters per visit, occupancy MAE, entry latency) in the report")
	keyPath := fs.String("key", "", "device key `FILE` that signs the report folder (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key; created on first use)")
	auditDir := fs.String("audit", "", "audit log `DIR` that records the report (default: the config's audit.dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	usage := errors.New("usage: edge verify --config FILE --camera ID (--video FILE | --recording FILE) --out DIR [--start RFC3339] [--samples N] [--truth FILE]")
	if *cfgPath == "" || *camera == "" || *out == "" || (*video == "") == (*recording == "") || fs.NArg() != 0 {
		fs.Usage()
		return &exitError{2, usage}
	}
	cfg := verify.Config{
		ConfigPath: *cfgPath, Camera: *camera, Video: *video, Recording: *recording,
		Samples: *samples, Version: version, Truth: *truth,
	}
	if *samples == 0 {
		cfg.Samples = -1
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return &exitError{2, fmt.Errorf("--start %q: want RFC 3339, e.g. 2026-03-01T12:00:00Z: %w", *start, err)}
		}
		cfg.Start = t
	}
	if isTerminal(os.Stderr) {
		cfg.Progress = progressBar()
	}
	// Refuse a used folder before the run, not after minutes of checking.
	if err := verify.FreshOutDir(*out); err != nil {
		return &exitError{2, err}
	}
	rep, err := verify.Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		if errors.Is(err, verify.ErrInput) {
			return &exitError{2, err}
		}
		return err
	}
	key, _, err := loadDeviceKey(*keyPath)
	if err != nil {
		return &exitError{2, fmt.Errorf("signing key: %w", err)}
	}
	if err := rep.Write(*out); err != nil {
		return &exitError{2, err}
	}
	inputs := []manifest.Input{{Role: "config", Path: rep.Config.Path, SHA256: rep.Config.SHA256}, {Role: "input", Path: rep.Video.Path, SHA256: rep.Video.SHA256}}
	if err := manifest.Seal(*out, inputs, key); err != nil {
		return &exitError{2, fmt.Errorf("sealing the report: %w", err)}
	}
	fmt.Printf("%s: %d frames checked, %d leaked, %d detections, %d outside signed zones, %d events, %.1f frames/s\nreport: %s/report.html (signed: %s/MANIFEST.minisig, key %s)\n",
		rep.Verdict, rep.FramesChecked, rep.FramesLeaked, rep.Detections, rep.ViolationCount, len(rep.Events), rep.ProcessingFPS, *out, *out, key.Fingerprint())
	if o := rep.Origin; o != nil {
		fmt.Printf("recording: started %s; camera %s, config %s, build %s, signage %s\n", o.StartTime,
			orUnstated(o.Camera), orUnstated(o.ConfigSHA256), orUnstated(o.Revision), orUnstated(o.Signage))
		if o.Warning != "" {
			fmt.Printf("WARNING: %s\n", o.Warning)
		}
	}
	if a := rep.Accuracy; a != nil {
		fmt.Printf("accuracy (%s, first %.1f s): %d visits, %d enters, precision %.2f, recall %.2f, enters per visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), entry latency p50 %.2f s p90 %.2f s\n",
			a.Truth, a.Seconds, a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
	}
	if err := rep.Audit(*auditDir, *out, key); err != nil {
		return &exitError{2, fmt.Errorf("report written and sealed, but not recorded in the audit log: %w", err)}
	}
	switch rep.Verdict {
	case verify.Pass:
	case verify.Inconclusive:
		return &exitError{3, errors.New("INCONCLUSIVE: " + strings.Join(rep.Reasons, "; "))}
	default:
		return &exitError{1, errors.New(strings.Join(rep.Reasons, "; "))}
	}
	return nil
}

// isTerminal says whether f is a terminal (then a progress bar helps; in a
// log or a pipe it is noise).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a Progress callback drawing at most ten times a second.
func progressBar() func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if time.Since(last) < 100*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		if total <= 0 {
			fmt.Fprintf(os.Stderr, "\rverify: %d frames", done)
			return
		}
		const width = 40
		n := min(width, done*width/total)
		fmt.Fprintf(os.Stderr, "\rverify [%s%s] %d/%d frames", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
	}
}

func orUnstated(s string) string {
	if s == "" {
		return "not stated"
	}
	return s
}
