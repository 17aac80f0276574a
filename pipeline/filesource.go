package pipeline

import (
	"context"
	"errors"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
)

// FileSource feeds a video file through the same stages as a live camera,
// as fast as they take it. Verify runs use it with CameraConfig.Offline.
type FileSource struct {
	Path string
}

// Run sends every access unit of the file and closes out.
func (s FileSource) Run(ctx context.Context, out chan<- media.AccessUnit) error {
	defer close(out)
	err := mediafile.ReadFile(ctx, s.Path, func(au media.AccessUnit) error {
		select {
		case out <- au:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
