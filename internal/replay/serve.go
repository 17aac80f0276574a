package replay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/edgeprivacy/edge/internal/exitcode"
)

// PasswordEnv names the variable holding the RTSP password of `edge
// replay`, so that it does not show in the process list as a flag would.
const PasswordEnv = "EDGE_REPLAY_PASSWORD"

// Serve is `edge replay`: it serves every video under cfg.Paths as a
// looping, real-time RTSP camera (rtsp://ADDR/<file name without
// extension>), writes each URL to w and returns when ctx is cancelled.
// cfg.Password counts only with cfg.Username, which requires it. verbose
// logs connections and loops to stderr.
func Serve(ctx context.Context, w io.Writer, cfg Config, verbose bool) error {
	if cfg.Username != "" && cfg.Password == "" {
		return exitcode.New(exitcode.Usage, fmt.Errorf("--user %s needs a password in $%s", cfg.Username, PasswordEnv))
	}
	if cfg.Username == "" {
		cfg.Password = ""
	}
	cfg.Logger = slog.Default()
	if verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()
	for _, u := range srv.URLs() {
		fmt.Fprintln(w, u)
	}
	<-ctx.Done()
	return nil
}
