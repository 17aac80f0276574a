package main

import (
	"context"
	"flag"
	"os"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/watch"
)

// cmdWatch is `edge watch --broker URL [--prefix edge]`: prints what the
// pipeline publishes, as any on-site subscriber would receive it.
func cmdWatch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "MQTT broker `URL`")
	prefix := fs.String("prefix", events.DefaultTopicPrefix, "topic prefix: the root (every box) or root/site/box (one box)")
	user := fs.String("username", "", "broker username")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return watch.Print(ctx, *brokerURL, *user, os.Getenv("EDGE_MQTT_PASSWORD"), *prefix, os.Stdout)
}
