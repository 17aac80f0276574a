package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/edgeprivacy/edge/internal/verify"
)

// cmdVersion is `edge version` (and `edge --version`): what an operator
// quotes in a bug report, and what an inspector compares with a report's
// build section.
func cmdVersion(_ context.Context, args []string) error {
	if len(args) != 0 {
		return &exitError{2, fmt.Errorf("usage: edge version (takes no arguments, got %q)", args)}
	}
	printVersion(os.Stdout)
	return nil
}

func printVersion(w io.Writer) {
	b := verify.CurrentBuild()
	rev := b.Revision
	if b.Dirty {
		rev += "+dirty"
	}
	if b.Time != "" {
		rev += " (" + b.Time + ")"
	}
	fmt.Fprintf(w, "edge %s\n", version)
	fmt.Fprintf(w, "  revision  %s\n", rev)
	fmt.Fprintf(w, "  go        %s\n", b.GoVersion)
	fmt.Fprintf(w, "  opencv    %s (gocv %s)\n", b.OpenCV, b.GoCV)
	fmt.Fprintf(w, "  ffmpeg    %s\n", b.FFmpeg)
	if b.Tags != "" {
		fmt.Fprintf(w, "  tags      %s\n", b.Tags)
	}
}
