package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/edgeprivacy/edge/internal/replay"
)

// replayPasswordEnv names the variable holding the RTSP password, so that it
// does not show in the process list as a flag would.
const replayPasswordEnv = "EDGE_REPLAY_PASSWORD"

// cmdReplay is `edge replay [--addr 127.0.0.1:8554] PATH...`: it serves every
// video under the paths as a looping, real-time RTSP camera
// (rtsp://ADDR/<file name without extension>) until ctx is cancelled.
func cmdReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	addr := fs.String("addr", replay.DefaultAddr, "RTSP listen `address`; use :8554 to serve other machines")
	udpRTP := fs.String("udp-rtp", "", "UDP RTP listen `address` (even port, e.g. :8000); empty serves TCP only")
	udpRTCP := fs.String("udp-rtcp", "", "UDP RTCP listen `address` (the RTP port + 1, e.g. :8001)")
	user := fs.String("user", "", "require this RTSP `username`; the password is read from $"+replayPasswordEnv)
	verbose := fs.Bool("v", false, "log connections and loops")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: edge replay [--addr 127.0.0.1:8554] [--udp-rtp :8000 --udp-rtcp :8001] [--user NAME] PATH...")
		fmt.Fprintln(fs.Output(), "PATH is an MP4/MOV or MPEG-TS file with H.264 or H.265 video, or a directory of them.")
		fs.PrintDefaults()
	}
	// Accept flags before and after the paths.
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(paths) == 0 {
		fs.Usage()
		return &exitError{2, errors.New("give at least one video file or directory, e.g. testvideos/")}
	}
	password := os.Getenv(replayPasswordEnv)
	if *user != "" && password == "" {
		return &exitError{2, fmt.Errorf("--user %s needs a password in $%s", *user, replayPasswordEnv)}
	}
	if *user == "" {
		password = ""
	}

	log := slog.Default()
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	srv, err := replay.New(replay.Config{
		Addr:           *addr,
		Paths:          paths,
		UDPRTPAddress:  *udpRTP,
		UDPRTCPAddress: *udpRTCP,
		Username:       *user,
		Password:       password,
		Logger:         log,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()
	for _, u := range srv.URLs() {
		fmt.Println(u)
	}
	<-ctx.Done()
	return nil
}
