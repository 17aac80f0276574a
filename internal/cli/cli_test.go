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

// TestSubcommand: only the subcommand word passes, and its flag set parses
// what follows it; anything else is a usage error that says the usage.
func TestSubcommand(t *testing.T) {
	const usage = "usage: edge key show [--key FILE]"
	for _, args := range [][]string{nil, {"--key", "f"}, {"shw"}} {
		if _, _, err := cli.Subcommand(args, "key", "show", usage); exitcode.Code(err) != exitcode.Usage || err.Error() != usage {
			t.Errorf("Subcommand(%q) = %v (exit %d), want the usage error %q", args, err, exitcode.Code(err), usage)
		}
	}
	fs, rest, err := cli.Subcommand([]string{"show", "--key", "f"}, "key", "show", usage)
	if err != nil {
		t.Fatal(err)
	}
	key := fs.String("key", "", "")
	if err := fs.Parse(rest); err != nil || *key != "f" || fs.Name() != "key show" {
		t.Errorf("parsed %q: err %v, key %q, flag set %q; want nil, f, key show", rest, err, *key, fs.Name())
	}
}
