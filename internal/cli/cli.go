// Package cli runs a program made of subcommands the way every edge command
// behaves: usage and "did you mean" for a wrong name, `help COMMAND`, a
// context cancelled by the first SIGINT or SIGTERM, and the exit status an
// error carries (package exitcode). The commands parse their own flags.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/exitcode"
)

// Command is one subcommand: its name, a synopsis of its arguments, one
// line of help and the function that runs it (nil for a name the
// dispatcher handles itself, as help).
type Command struct {
	Name, Args, Help string
	Run              func(ctx context.Context, args []string) error
}

// Program is a command made of subcommands.
type Program struct {
	// Name prefixes usage and error lines.
	Name     string
	Commands []Command
	// Version writes the version for --version, -version and -V.
	Version func(w io.Writer)
	// LogLevelEnv names the variable that sets the level of the default
	// logger (see LogLevel; info when unset).
	LogLevelEnv string
}

// Run runs the command that args[0] names with the rest of args and returns
// the process exit status: 0, the status its error carries (1 by default),
// or 2 for usage (no command, an unknown one, -h). Usage and errors go to
// stderr, the default logger writes there too.
func (p Program) Run(args []string) int {
	switch {
	case len(args) == 0 || args[0] == "-h" || args[0] == "--help" || (args[0] == "help" && len(args) == 1):
		usage(os.Stderr, p.Name, p.Commands)
		return exitcode.Usage
	case args[0] == "--version" || args[0] == "-version" || args[0] == "-V":
		p.Version(os.Stdout)
		return 0
	case args[0] == "help":
		// prog help COMMAND is prog COMMAND -h: every command's flag set
		// prints its own usage.
		args = []string{args[1], "-h"}
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: LogLevel(p.LogLevelEnv, slog.LevelInfo)})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a clean shutdown; once it is under way the
	// default handling is back, so a second Ctrl-C or SIGTERM ends a
	// shutdown that hangs.
	go func() { <-ctx.Done(); stop() }()
	for _, c := range p.Commands {
		if c.Name != args[0] || c.Run == nil {
			continue
		}
		err := c.Run(ctx, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitcode.Usage
		}
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", p.Name, c.Name, err)
		return exitcode.Code(err)
	}
	fmt.Fprintf(os.Stderr, "%s: unknown command %q%s\n\n", p.Name, args[0], DidYouMean(args[0], names(p.Commands)))
	usage(os.Stderr, p.Name, p.Commands)
	return exitcode.Usage
}

// NewFlagSet is a flag set that returns its errors; usage, when given, are
// the lines its -h prints before the flags (else Go's "Usage of NAME:").
func NewFlagSet(name string, usage ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if len(usage) > 0 {
		fs.Usage = func() {
			for _, l := range usage {
				fmt.Fprintln(fs.Output(), l)
			}
			fs.PrintDefaults()
		}
	}
	return fs
}

// Subcommand checks that args start with a command's one subcommand word
// (`edge key show`): any other start is a usage error with usage. It returns
// the flag set "CMD SUB" and the arguments after the word, to parse.
func Subcommand(args []string, cmd, sub, usage string) (*flag.FlagSet, []string, error) {
	if len(args) == 0 || args[0] != sub {
		return nil, nil, UsageError(usage)
	}
	return NewFlagSet(cmd + " " + sub), args[1:], nil
}

func usage(w io.Writer, prog string, cmds []Command) {
	fmt.Fprintf(w, "usage: %s COMMAND [ARGS]\n\ncommands:\n", prog)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %s %s %s\n        %s\n", prog, c.Name, c.Args, c.Help)
	}
}

func names(cmds []Command) []string {
	names := make([]string, 0, len(cmds))
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return names
}

// DidYouMean is "; did you mean X?" for the nearest of names, or "".
func DidYouMean(got string, names []string) string {
	if s := configs.Nearest(got, names); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// LogLevel reads the level named by the environment variable env (debug,
// info, warn or error): unset when it is empty, info when it names none.
func LogLevel(env string, unset slog.Level) slog.Level {
	v := os.Getenv(env)
	if v == "" {
		return unset
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// UsageError is a wrong command line: exit status 2.
func UsageError(msg string) error { return exitcode.New(exitcode.Usage, errors.New(msg)) }

// ParseInterspersed parses fs from args with flags allowed before, between
// and after the positional arguments, which it returns in order.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
