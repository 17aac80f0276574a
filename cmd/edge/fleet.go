package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/bench"
	"github.com/edgeprivacy/edge/internal/fleet"
)

// cmdFleet is `edge fleet status --broker URL [--json]`: one line per box and
// camera of every box under the topic root; exit 1 when a box is down or a
// camera out of compliance, so that cron or a monitoring system can run it.
func cmdFleet(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		return &exitError{2, errors.New("usage: edge fleet status --broker URL[,URL...] [--prefix ROOT] [--json] [--wait D]")}
	}
	fs := flag.NewFlagSet("fleet status", flag.ContinueOnError)
	brokers := fs.String("broker", "tcp://127.0.0.1:1883", "broker `URL`s, comma-separated, tried in order")
	root := fs.String("prefix", events.DefaultTopicPrefix, "topic root (mqtt.topic_prefix of the boxes)")
	user := fs.String("username", "", "broker username (password from EDGE_MQTT_PASSWORD)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	wait := fs.Duration("wait", fleet.DefaultWait, "how long to collect retained messages")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, err := fleet.Collect(ctx, fleet.Options{
		Brokers: strings.Split(*brokers, ","), Root: *root, Username: *user,
		Password: os.Getenv("EDGE_MQTT_PASSWORD"), Wait: *wait,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		return err
	}
	if !r.Healthy() {
		return &exitError{1, fmt.Errorf("%d of %d boxes down, %d cameras out of compliance", r.Down, len(r.Boxes), r.NonCompliant)}
	}
	return nil
}

// cmdBench is `edge bench fleet --boxes N --broker URL,...`: N lightweight
// boxes (the real publisher and spool, synthetic events, no video) against a
// broker list; prints events per second and whether every event arrived.
func cmdBench(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "fleet" {
		return bench.Main(ctx, args, os.Stdout, os.Stderr) // edge bench --cameras N ...: internal/bench
	}
	fs := flag.NewFlagSet("bench fleet", flag.ContinueOnError)
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
	dir, err := os.MkdirTemp("", "edge-bench-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res, err := fleet.Bench(ctx, fleet.BenchOptions{
		Brokers: strings.Split(*brokers, ","), Root: *root, Site: *site, Boxes: *boxes, Events: *nEvents,
		Rate: *rate, SpoolDir: dir, Timeout: *timeout, Hold: *hold, Logger: benchLogger(),
	})
	if res != nil {
		up := 0
		if res.Status != nil {
			up = len(res.Status.Boxes) - res.Status.Down
		}
		fmt.Printf("boxes=%d produced=%d delivered=%d duplicates=%d elapsed=%v events_per_s=%.0f failovers=%d dropped=%d boxes_up=%d\n",
			res.Boxes, res.Produced, res.Delivered, res.Duplicates, res.Elapsed.Round(time.Millisecond), res.EventsPerSecond,
			res.Failovers, res.Dropped, up)
	}
	return err
}

// benchLogger keeps the simulated boxes' routine lines (connected,
// disconnected, times N) out of the figures; warnings and errors stay.
func benchLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("EDGE_LOG_LEVEL") != "" {
		level = logLevel()
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("component", "bench")
}
