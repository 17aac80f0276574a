// Command edge runs the privacy-first video analytics pipeline and its tools.
package main

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/cli"
	"github.com/edgeprivacy/edge/internal/verify"
	"github.com/edgeprivacy/edge/stages/mask"
)

func commands() []cli.Command {
	return []cli.Command{
		{Name: "run", Args: "--config FILE [--http ADDR]", Help: "run every enabled camera's pipeline, with the operator console on ADDR", Run: cmdRun},
		{Name: "config", Args: "check [--strict] FILE", Help: "validate a config, summarise its cameras and each sign's lifecycle (--strict: exit 1 on a warning)", Run: cmdConfig},
		{Name: "replay", Args: "[--addr A] PATH...", Help: "serve videos as looping RTSP cameras", Run: cmdReplay},
		{Name: "probe", Args: "URL [--frames N]", Help: "check a camera before adding it", Run: cmdProbe},
		{Name: "watch", Args: "[--broker URL] [--prefix P]", Help: "print what the pipeline publishes on MQTT", Run: cmdWatch},
		{Name: "verify", Args: "--config F --camera ID (--video V | --recording R) --out DIR", Help: "prove masking and signage on a video", Run: cmdVerify},
		{Name: "audit", Args: "verify [--pubkey F] PATH | export (--config F | --dir D) --from T --to T --out DIR", Help: "check the audit chain (exit 1 names the first broken record) or export a period with a signed manifest", Run: cmdAudit},
		{Name: "report", Args: "check DIR [--pubkey FILE]", Help: "check a verify report folder against its signed manifest: exit 0 all match, 1 names each changed, added or removed file, 2 unreadable", Run: cmdReport},
		{Name: "key", Args: "show [--key FILE]", Help: "the device signing key's public key and fingerprint (created on first use)", Run: cmdKey},
		{Name: "fleet", Args: "status --broker URL[,URL...] [--prefix ROOT] [--json]", Help: "one line per box and camera of a fleet; exit 1 when a box is down or a camera out of compliance", Run: cmdFleet},
		{Name: "bench", Args: "[--clip F] [--cameras N] [--seconds S] [--outputs] [--find-max] [--json] | fleet --boxes N --broker URL[,URL...]", Help: "serve a clip as N cameras through the pipeline and report what the box sustains (docs/performance.md); fleet: simulate N boxes and report events/s", Run: cmdBench},
		{Name: "zones", Args: "preview --config F --camera ID --out PNG [--video V]", Help: "one masked frame with every zone drawn", Run: cmdZones},
		{Name: "version", Args: "", Help: "version, VCS revision, Go, OpenCV and FFmpeg of this binary (also edge --version)", Run: cmdVersion},
		{Name: "help", Args: "[COMMAND]", Help: "this list, or a command's flags"},
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if mask.FaultInjected {
		version += "+maskshift-BROKEN-MASK"
	}
	return cli.Program{Name: "edge", Commands: commands(), Version: writeVersion, LogLevelEnv: logLevelEnv}.Run(args)
}

func writeVersion(w io.Writer) { verify.WriteVersion(w, version) }

// logLevelEnv names the variable that sets the log level (debug, info, warn
// or error; default info).
const logLevelEnv = "EDGE_LOG_LEVEL"

// cmdConfig is `edge config check [--strict] FILE` (signs warn 30 days ahead).
func cmdConfig(ctx context.Context, args []string) error {
	return configCheck(ctx, os.Stdout, time.Now(), args)
}

func configCheck(ctx context.Context, w io.Writer, now time.Time, args []string) error {
	strict := false
	var rest []string
	for _, a := range args {
		if a == "--strict" || a == "-strict" {
			strict = true
		} else {
			rest = append(rest, a)
		}
	}
	if len(rest) != 2 || rest[0] != "check" || strings.HasPrefix(rest[1], "-") {
		return cli.UsageError("usage: edge config check [--strict] FILE")
	}
	return configs.Check(ctx, w, now, rest[1], strict)
}

// cmdVersion is `edge version` (and `edge --version`).
func cmdVersion(_ context.Context, args []string) error {
	const usage = "usage: edge version (also edge --version): version, VCS revision, Go, OpenCV and FFmpeg of this binary"
	fs := cli.NewFlagSet("version", usage)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.UsageError(usage)
	}
	writeVersion(os.Stdout)
	return nil
}
