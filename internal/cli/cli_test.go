package cli_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/edgeprivacy/edge/internal/cli"
	"github.com/edgeprivacy/edge/internal/exitcode"
)

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		n    int
	}{
		{[]string{"a", "-n", "3", "b"}, []string{"a", "b"}, 3},
		{[]string{"-n", "2", "a"}, []string{"a"}, 2},
		{[]string{"a", "b", "-n", "4"}, []string{"a", "b"}, 4},
		{[]string{"-n", "5", "--", "-a"}, []string{"-a"}, 5},
		{nil, nil, 0},
	} {
		fs := cli.NewFlagSet("t")
		n := fs.Int("n", 0, "")
		pos, err := cli.ParseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *n != tc.n {
			t.Errorf("%q: %q n=%d err=%v; want %q n=%d", tc.args, pos, *n, err, tc.pos, tc.n)
		}
	}
	fs := cli.NewFlagSet("t")
	fs.SetOutput(io.Discard)
	if _, err := cli.ParseInterspersed(fs, []string{"a", "-bogus"}); err == nil {
		t.Error("an unknown flag after a positional argument was accepted")
	}
}

func TestLogLevel(t *testing.T) {
	for v, want := range map[string]slog.Level{"": slog.LevelWarn, "debug": slog.LevelDebug, "error": slog.LevelError, "loud": slog.LevelInfo} {
		t.Setenv("EDGE_TEST_LEVEL", v)
		if got := cli.LogLevel("EDGE_TEST_LEVEL", slog.LevelWarn); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	base := errors.New("x")
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{base, 1},
		{cli.UsageError("usage"), 2},
		{fmt.Errorf("wrapped: %w", exitcode.New(3, base)), 3},
	} {
		if got := exitcode.Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
