package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/internal/app"
	"github.com/edgeprivacy/edge/internal/broker"
)

// cmdRun is `edge run --config FILE`: every enabled camera, each its own
// pipeline, events to MQTT; the config is reloaded on SIGHUP and when the
// file changes (see package app).
func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
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
		return &exitError{2, errors.New("usage: edge run --config FILE")}
	}
	// SIGHUP means "reload", never "die", from the first moment on: a reload
	// sent during start-up or shutdown must not cut off a recording.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var printTo io.Writer
	if *print {
		printTo = os.Stdout
	}
	return app.Run(ctx, app.Options{
		ConfigPath: *path, EmbeddedBroker: *embedded, Print: printTo, AuditDir: *audit, KeyPath: *keyPath,
		WatchEvery: *watchEvery, Reload: hup, HTTPAddr: *httpAddr, Build: version,
	})
}
