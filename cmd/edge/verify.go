package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/cli"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/exitcode"
	"github.com/edgeprivacy/edge/internal/manifest"
	"github.com/edgeprivacy/edge/internal/verify"
)

// version is the tool version written into reports; set it at build time
// with -ldflags "-X main.version=1.2.3".
var version = "dev"

// cmdVerify is `edge verify` (exit 0 PASS, 1 FAIL, 2 usage or input, 3 INCONCLUSIVE).
func cmdVerify(ctx context.Context, args []string) error {
	fs := cli.NewFlagSet("verify")
	cfgPath := fs.String("config", "", "config `FILE` (YAML)")
	camera := fs.String("camera", "", "camera `ID` whose zones and signage apply")
	video := fs.String("video", "", "test video `FILE` to run through the production pipeline")
	recording := fs.String("recording", "", "existing recording `FILE` to decode and leak-check (instead of --video)")
	out := fs.String("out", "", "report `DIR` (report.json, report.html, sample JPEGs)")
	start := fs.String("start", "", "wall-clock `TIME` (RFC 3339) of the first frame, for judging signage; default now")
	samples := fs.Int("samples", verify.DefaultSamples, "masked sample frames in the report")
	truth := fs.String("truth", "", "ground-truth `FILE` (JSON, docs/accuracy.md): score the run's events against it (precision, recall, enters per visit, occupancy MAE, entry latency) in the report")
	detections := fs.String("detections", "", "write every detection result of the run to `FILE` (JSON), to re-score tracker settings without the detector (docs/accuracy.md)")
	motionCrops := fs.Bool("motion-crops", false, "detect as live cameras do, on the crops around motion and the people found last, instead of the whole analysis area of every frame (docs/accuracy.md)")
	keyPath := fs.String("key", "", "device key `FILE` that signs the report folder (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key; created on first use)")
	auditDir := fs.String("audit", "", "audit log `DIR` that records the report (default: the config's audit.dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || *camera == "" || *out == "" || (*video == "") == (*recording == "") || fs.NArg() != 0 {
		fs.Usage()
		return cli.UsageError("usage: edge verify --config FILE --camera ID (--video FILE | --recording FILE) --out DIR [--start RFC3339] [--samples N] [--truth FILE] [--detections FILE]")
	}
	if *samples == 0 {
		*samples = -1 // --samples 0 asks for none; Config's zero is the default
	}
	return verify.Command(ctx, verify.Config{
		ConfigPath: *cfgPath, Camera: *camera, Video: *video, Recording: *recording,
		Samples: *samples, Version: version, Truth: *truth, Detections: *detections, MotionCrops: *motionCrops,
	}, verify.CommandOptions{Start: *start, Out: *out, KeyPath: *keyPath, AuditDir: *auditDir})
}

// cmdZones is `edge zones preview`: one masked frame with every zone drawn.
func cmdZones(ctx context.Context, args []string) error {
	const usage = "usage: edge zones preview --config FILE --camera ID --out preview.png [--video FILE] [--frame N]"
	fs, rest, err := cli.Subcommand(args, "zones", "preview", usage)
	if err != nil {
		return err
	}
	cfgPath := fs.String("config", "", "config `FILE` (YAML)")
	camera := fs.String("camera", "", "camera `ID`")
	out := fs.String("out", "", "PNG `FILE` to write")
	video := fs.String("video", "", "take the frame from this video `FILE` instead of the camera's URL")
	frame := fs.Int("frame", 0, "with --video: index `N` of the frame to use")
	timeout := fs.Duration("timeout", 15*time.Second, "without --video: how long to wait for the camera")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if *cfgPath == "" || *camera == "" || *out == "" || fs.NArg() != 0 || *frame < 0 {
		fs.Usage()
		return cli.UsageError(usage)
	}
	return verify.PreviewCommand(ctx, verify.PreviewConfig{ConfigPath: *cfgPath, Camera: *camera, Video: *video, Frame: *frame, Timeout: *timeout}, *out)
}

// cmdReport is `edge report check DIR`: a report folder against its signed manifest.
func cmdReport(_ context.Context, args []string) error {
	const usage = "usage: edge report check DIR [--pubkey FILE]"
	fs, rest, err := cli.Subcommand(args, "report", "check", usage)
	if err != nil {
		return err
	}
	pubPath := fs.String("pubkey", "", "minisign public key `FILE` of the device that signed (default: this device's key)")
	keyPath := fs.String("key", "", "this device's key `FILE`, when --pubkey is not given")
	dirs, err := cli.ParseInterspersed(fs, rest)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if len(dirs) != 1 {
		return cli.UsageError(usage)
	}
	return manifest.CheckCommand(os.Stdout, dirs[0], *pubPath, *keyPath)
}

// cmdKey is `edge key show`: the device's public key and fingerprint.
func cmdKey(_ context.Context, args []string) error {
	const usage = "usage: edge key show [--key FILE]"
	fs, rest, err := cli.Subcommand(args, "key", "show", usage)
	if err != nil {
		return err
	}
	path := fs.String("key", "", "device key `FILE` (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key)")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.UsageError(usage)
	}
	return devicekey.Show(os.Stdout, *path)
}

const auditUsage = "usage: edge audit verify [--pubkey FILE] PATH | edge audit export (--config FILE | --dir DIR) --from T --to T --out DIR [--key FILE]"

// cmdAudit is `edge audit verify` and `edge audit export`.
func cmdAudit(_ context.Context, args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return auditVerify(os.Stdout, args[1:])
	}
	if len(args) > 0 && args[0] == "export" {
		return auditExport(os.Stdout, args[1:])
	}
	return cli.UsageError(auditUsage)
}

func auditVerify(w io.Writer, args []string) error {
	fs := cli.NewFlagSet("audit verify")
	pubPath := fs.String("pubkey", "", "require checkpoints signed by this minisign public key `FILE` (from `edge key show`)")
	if err := fs.Parse(args); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if fs.NArg() != 1 {
		return cli.UsageError("usage: edge audit verify [--pubkey FILE] PATH (an audit folder or one file)")
	}
	return audit.VerifyCommand(w, fs.Arg(0), *pubPath)
}

func auditExport(w io.Writer, args []string) error {
	fs := cli.NewFlagSet("audit export")
	cfgPath := fs.String("config", "", "config `FILE` whose audit.dir to export")
	dir := fs.String("dir", "", "audit `DIR` (instead of --config)")
	fromS := fs.String("from", "", "first time, RFC 3339 or YYYY-MM-DD")
	toS := fs.String("to", "", "last time, RFC 3339 or YYYY-MM-DD")
	out := fs.String("out", "", "output `DIR`")
	keyPath := fs.String("key", "", "device key `FILE` (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key)")
	if err := fs.Parse(args); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	from, ferr := audit.ParseTime(*fromS)
	to, terr := audit.ParseTime(*toS)
	if fs.NArg() != 0 || *out == "" || (*cfgPath == "") == (*dir == "") || ferr != nil || terr != nil || to.Before(from) {
		return exitcode.New(exitcode.Usage, fmt.Errorf("%s (%w)", auditUsage, errors.Join(ferr, terr)))
	}
	if *cfgPath != "" {
		cfg, err := configs.Load(*cfgPath)
		if err != nil {
			return err
		}
		*dir = cfg.Audit.Dir
	}
	return audit.ExportCommand(w, *dir, from, to, *out, *keyPath)
}
