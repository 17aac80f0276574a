package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/edgeprivacy/edge/internal/verify"
)

// cmdZones is `edge zones preview`: one masked frame with every zone drawn
// and labelled, for operators drawing zones.
func cmdZones(ctx context.Context, args []string) error {
	usage := errors.New("usage: edge zones preview --config FILE --camera ID --out preview.png [--video FILE] [--frame N]")
	if len(args) == 0 || args[0] != "preview" {
		return &exitError{2, usage}
	}
	fs := flag.NewFlagSet("zones preview", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config `FILE` (YAML)")
	camera := fs.String("camera", "", "camera `ID`")
	out := fs.String("out", "", "PNG `FILE` to write")
	video := fs.String("video", "", "take the frame from this video `FILE` instead of the camera's URL")
	frame := fs.Int("frame", 0, "with --video: index `N` of the frame to use")
	timeout := fs.Duration("timeout", 15*time.Second, "without --video: how long to wait for the camera")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" || *camera == "" || *out == "" || fs.NArg() != 0 || *frame < 0 {
		fs.Usage()
		return &exitError{2, usage}
	}
	png, err := verify.Preview(ctx, verify.PreviewConfig{ConfigPath: *cfgPath, Camera: *camera, Video: *video, Frame: *frame, Timeout: *timeout})
	if err != nil {
		if errors.Is(err, verify.ErrInput) {
			return &exitError{2, err}
		}
		return err
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return fmt.Errorf("write preview: %w", err)
	}
	fmt.Printf("wrote %s\n", *out)
	return nil
}
