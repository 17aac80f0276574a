// Command edge runs the privacy-first video analytics pipeline and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeprivacy/edge/stages/mask"
)

// exitError carries a specific process exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

type command struct {
	name, args, help string
	run              func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"run", "--config FILE [--http ADDR]", "run every enabled camera's pipeline, with the operator console on ADDR", cmdRun},
		{"config", "check [--strict] FILE", "validate a config, summarise its cameras and each sign's lifecycle (--strict: exit 1 on a warning)", cmdConfig},
		{"replay", "[--addr A] PATH...", "serve videos as looping RTSP cameras", cmdReplay},
		{"probe", "URL [--frames N]", "check a camera before adding it", cmdProbe},
		{"watch", "[--broker URL] [--prefix P]", "print what the pipeline publishes on MQTT", cmdWatch},
		{"verify", "--config F --camera ID (--video V | --recording R) --out DIR", "prove masking and signage on a video", cmdVerify},
		{"audit", "verify [--pubkey F] PATH | export (--config F | --dir D) --from T --to T --out DIR", "check the audit chain (exit 1 names the first broken record) or export a period with a signed manifest", cmdAudit},
		{"report", "check DIR [--pubkey FILE]", "check a verify report folder against its signed manifest: exit 0 all match, 1 names each changed, added or removed file, 2 unreadable", cmdReport},
		{"key", "show [--key FILE]", "the device signing key's public key and fingerprint (created on first use)", cmdKey},
		{"fleet", "status --broker URL[,URL...] [--prefix ROOT] [--json]", "one line per box and camera of a fleet; exit 1 when a box is down or a camera out of compliance", cmdFleet},
		{"bench", "[--clip F] [--cameras N] [--seconds S] [--outputs] [--find-max] [--json] | fleet --boxes N --broker URL[,URL...]", "serve a clip as N cameras through the pipeline and report what the box sustains (docs/performance.md); fleet: simulate N boxes and report events/s", cmdBench},
		{"zones", "preview --config F --camera ID --out PNG [--video V]", "one masked frame with every zone drawn", cmdZones},
		{"version", "", "version, VCS revision, Go, OpenCV and FFmpeg of this binary (also edge --version)", cmdVersion},
		{"help", "[COMMAND]", "this list, or a command's flags", nil},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: edge COMMAND [ARGS]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  edge %s %s\n        %s\n", c.name, c.args, c.help)
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if mask.FaultInjected {
		version += "+maskshift-BROKEN-MASK"
	}
	switch {
	case len(args) == 0 || args[0] == "-h" || args[0] == "--help" || (args[0] == "help" && len(args) == 1):
		usage()
		return 2
	case args[0] == "--version" || args[0] == "-version" || args[0] == "-V":
		printVersion(os.Stdout)
		return 0
	case args[0] == "help":
		// edge help COMMAND is edge COMMAND -h: every command's flag set
		// prints its own usage.
		args = []string{args[1], "-h"}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a clean shutdown; once it is under way the
	// default handling is back, so a second Ctrl-C or SIGTERM ends a
	// shutdown that hangs.
	go func() { <-ctx.Done(); stop() }()
	for _, c := range commands() {
		if c.name != args[0] || c.run == nil {
			continue
		}
		err := c.run(ctx, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(os.Stderr, "edge %s: %v\n", c.name, err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "edge: unknown command %q%s\n\n", args[0], didYouMean(args[0], commandNames()))
	usage()
	return 2
}

// logLevel reads EDGE_LOG_LEVEL (debug, info, warn or error; default info).
func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("EDGE_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

func commandNames() []string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return names
}
