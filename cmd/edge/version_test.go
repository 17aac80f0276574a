package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/cli"
	"github.com/edgeprivacy/edge/internal/exitcode"
	"github.com/edgeprivacy/edge/internal/verify"
)

func TestVersionNamesEveryComponent(t *testing.T) {
	var b bytes.Buffer
	verify.WriteVersion(&b, version)
	out := b.String()
	for _, want := range []string{"edge ", "revision ", "go        go1.", "opencv    4.", "gocv ", "ffmpeg    "} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	if code := run([]string{"--version"}); code != 0 {
		t.Errorf("edge --version exit %d", code)
	}
	if code := run([]string{"version", "extra"}); code != 2 {
		t.Errorf("edge version extra: exit %d, want 2", code)
	}
}

func TestDidYouMeanCommand(t *testing.T) {
	for got, want := range map[string]string{"verfiy": "verify", "confg": "config", "wtach": "watch", "zzzzzz": ""} {
		s := cli.DidYouMean(got, []string{"verify", "config", "watch", "zones"})
		if want == "" && s != "" || want != "" && !strings.Contains(s, want) {
			t.Errorf("%s: %q, want %q", got, s, want)
		}
	}
}

// TestHelpForEveryCommand: `edge help COMMAND` (COMMAND -h) answers with the
// command's usage for every command, never with a complaint about "-h".
func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range commands() {
		if c.Run == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := c.Run(ctx, []string{"-h"})
			if !errors.Is(err, flag.ErrHelp) && (exitcode.Code(err) != exitcode.Usage || !strings.HasPrefix(err.Error(), "usage:")) {
				t.Fatalf("edge help %s: %v, want its usage", c.Name, err)
			}
			if err != nil && strings.Contains(err.Error(), `"-h"`) {
				t.Fatalf("edge help %s took -h for an argument: %v", c.Name, err)
			}
		})
	}
}
