package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/cli"
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
