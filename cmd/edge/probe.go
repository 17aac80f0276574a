package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/probe"
)

// cmdProbe is `edge probe URL [--frames N] [--transport tcp|udp] [--timeout 10s]`:
// it connects to a camera once, decodes a few frames and prints what an
// operator needs before adding the camera (codec, size, frame rate, keyframe
// interval, decode cost). It fails with the reason when the camera cannot be
// used.
func cmdProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	frames := fs.Int("frames", 50, "decode `N` pictures")
	transport := fs.String("transport", "tcp", "RTSP transport: tcp or udp")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long without a frame (connecting included)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: edge probe URL [--frames N] [--transport tcp|udp] [--timeout 10s]")
		fs.PrintDefaults()
	}
	// Accept the URL before or after the flags.
	var url string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		url, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if url == "" && fs.NArg() > 0 {
		url = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if url == "" || fs.NArg() > 0 {
		fs.Usage()
		return &exitError{2, errors.New("give exactly one camera URL")}
	}
	if *frames < 1 {
		return &exitError{2, fmt.Errorf("--frames %d: give at least 1", *frames)}
	}
	if *timeout <= 0 {
		return &exitError{2, fmt.Errorf("--timeout %v: give a positive duration", *timeout)}
	}

	res, err := probe.Camera(ctx, probe.Config{URL: url, Transport: *transport, Frames: *frames, Timeout: *timeout})
	if err != nil {
		return err
	}
	res.Print(os.Stdout)
	return nil
}
