package probe

import (
	"context"
	"fmt"
	"io"

	"github.com/edgeprivacy/edge/internal/exitcode"
)

// Command is `edge probe URL`: cfg.URL probed once and the result printed on
// w, what an operator needs before adding the camera; a setting out of range
// is a usage error (exit status 2).
func Command(ctx context.Context, w io.Writer, cfg Config) error {
	if cfg.Frames < 1 {
		return exitcode.New(exitcode.Usage, fmt.Errorf("--frames %d: give at least 1", cfg.Frames))
	}
	if cfg.Timeout <= 0 {
		return exitcode.New(exitcode.Usage, fmt.Errorf("--timeout %v: give a positive duration", cfg.Timeout))
	}
	res, err := Camera(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(w)
	return nil
}
