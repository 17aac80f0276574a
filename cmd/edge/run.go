package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/app"
	"github.com/edgeprivacy/edge/internal/bench"
	"github.com/edgeprivacy/edge/internal/broker"
	"github.com/edgeprivacy/edge/internal/cli"
	"github.com/edgeprivacy/edge/internal/fleet"
	"github.com/edgeprivacy/edge/internal/probe"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/internal/watch"
)

// cmdRun is `edge run`: the application of package app.
func cmdRun(ctx context.Context, args []string) error {
	fs := cli.NewFlagSet("run")
	path := fs.String("config", "", "config `FILE` (YAML)")
	embedded := fs.String("embedded-broker", broker.DefaultAddr, "listen `ADDR` of the embedded MQTT broker, used when mqtt.broker is empty")
	print := fs.Bool("print", false, "also print each event published, as a subscriber sees it (edge watch shows every message)")
	audit := fs.String("audit", "", "tamper-evident audit log `DIR` (default: the config's audit.dir, ./state/audit)")
	keyPath := fs.String("key", "", "device key `FILE` that signs audit checkpoints (default $EDGE_DEVICE_KEY or ~/.config/edge/device.key; created on first use)")
	httpAddr := fs.String("http", "", "serve the operator console, API and metrics on `ADDR` instead of http.addr (default 127.0.0.1:8080; off: none)")
	watchEvery := fs.Duration("watch-config", 2*time.Second, "check the config file for changes this often (0: only on SIGHUP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return cli.UsageError("usage: edge run --config FILE")
	}
	var printTo io.Writer
	if *print {
		printTo = os.Stdout
	}
	return app.Command(ctx, app.Options{
		ConfigPath: *path, EmbeddedBroker: *embedded, Print: printTo, AuditDir: *audit, KeyPath: *keyPath,
		WatchEvery: *watchEvery, HTTPAddr: *httpAddr, Build: version,
	})
}

// cmdWatch is `edge watch`: what the pipeline publishes, as any on-site
// subscriber would receive it.
func cmdWatch(ctx context.Context, args []string) error {
	fs := cli.NewFlagSet("watch")
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "MQTT broker `URL`")
	prefix := fs.String("prefix", events.DefaultTopicPrefix, "topic prefix: the root (every box) or root/site/box (one box)")
	user := fs.String("username", "", "broker username")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return watch.Print(ctx, *brokerURL, *user, os.Getenv("EDGE_MQTT_PASSWORD"), *prefix, os.Stdout)
}

// cmdReplay is `edge replay PATH...`: videos served as looping RTSP cameras.
func cmdReplay(ctx context.Context, args []string) error {
	fs := cli.NewFlagSet("replay",
		"usage: edge replay [--addr 127.0.0.1:8554] [--udp-rtp :8000 --udp-rtcp :8001] [--user NAME] PATH...",
		"PATH is an MP4/MOV or MPEG-TS file with H.264 or H.265 video, or a directory of them.",
	)
	addr := fs.String("addr", replay.DefaultAddr, "RTSP listen `address`; use :8554 to serve other machines")
	udpRTP := fs.String("udp-rtp", "", "UDP RTP listen `address` (even port, e.g. :8000); empty serves TCP only")
	udpRTCP := fs.String("udp-rtcp", "", "UDP RTCP listen `address` (the RTP port + 1, e.g. :8001)")
	user := fs.String("user", "", "require this RTSP `username`; the password is read from $"+replay.PasswordEnv)
	verbose := fs.Bool("v", false, "log connections and loops")
	paths, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return cli.UsageError("give at least one video file or directory, e.g. testvideos/")
	}
	return replay.Serve(ctx, os.Stdout, replay.Config{
		Addr: *addr, Paths: paths, UDPRTPAddress: *udpRTP, UDPRTCPAddress: *udpRTCP,
		Username: *user, Password: os.Getenv(replay.PasswordEnv),
	}, *verbose)
}

// cmdProbe is `edge probe URL`: a camera checked before it is added.
func cmdProbe(ctx context.Context, args []string) error {
	fs := cli.NewFlagSet("probe",
		"usage: edge probe URL [--frames N] [--transport tcp|udp] [--timeout 10s]",
	)
	frames := fs.Int("frames", 50, "decode `N` pictures")
	transport := fs.String("transport", "tcp", "RTSP transport: tcp or udp")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long without a frame (connecting included)")
	urls, err := cli.ParseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(urls) != 1 {
		fs.Usage()
		return cli.UsageError("give exactly one camera URL")
	}
	return probe.Command(ctx, os.Stdout, probe.Config{URL: urls[0], Transport: *transport, Frames: *frames, Timeout: *timeout})
}

// cmdFleet is `edge fleet status`: exit 1 when a box is down or a camera out of compliance.
func cmdFleet(ctx context.Context, args []string) error {
	fs, rest, err := cli.Subcommand(args, "fleet", "status", "usage: edge fleet status --broker URL[,URL...] [--prefix ROOT] [--json] [--wait D]")
	if err != nil {
		return err
	}
	brokers := fs.String("broker", "tcp://127.0.0.1:1883", "broker `URL`s, comma-separated, tried in order")
	root := fs.String("prefix", events.DefaultTopicPrefix, "topic root (mqtt.topic_prefix of the boxes)")
	user := fs.String("username", "", "broker username (password from EDGE_MQTT_PASSWORD)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	wait := fs.Duration("wait", fleet.DefaultWait, "how long to collect retained messages")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	return fleet.StatusCommand(ctx, os.Stdout, fleet.Options{
		Brokers: strings.Split(*brokers, ","), Root: *root, Username: *user,
		Password: os.Getenv("EDGE_MQTT_PASSWORD"), Wait: *wait,
	}, *asJSON)
}

// cmdBench is `edge bench fleet`: N simulated boxes against a broker list.
func cmdBench(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "fleet" {
		return bench.Main(ctx, args, os.Stdout, os.Stderr) // edge bench --cameras N ...: internal/bench
	}
	fs := cli.NewFlagSet("bench fleet")
	boxes := fs.Int("boxes", 10, "how many boxes to simulate")
	brokers := fs.String("broker", "tcp://127.0.0.1:1883", "broker `URL`s, comma-separated: every box gets all of them")
	nEvents := fs.Int("events", 100, "events per box")
	rate := fs.Float64("rate", 0, "events per second per box (0: as fast as they are taken)")
	root := fs.String("prefix", events.DefaultTopicPrefix, "topic root")
	site := fs.String("site", "bench", "site of every simulated box")
	hold := fs.Duration("hold", 0, "keep the boxes up this long after delivery (to run edge fleet status)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up waiting for delivery after this long")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return fleet.BenchCommand(ctx, os.Stdout, fleet.BenchOptions{
		Brokers: strings.Split(*brokers, ","), Root: *root, Site: *site, Boxes: *boxes, Events: *nEvents,
		Rate: *rate, Timeout: *timeout, Hold: *hold,
		// Routine lines (connected, disconnected, times N) stay out of the figures.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cli.LogLevel(logLevelEnv, slog.LevelWarn)})).With("component", "bench"),
	})
}
