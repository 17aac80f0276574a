package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/mask"
)

// PreviewConfig says which camera's zones to draw and where the frame comes from.
type PreviewConfig struct {
	ConfigPath string
	Camera     string
	// Video is a file to take the frame from; empty means the camera's own
	// URL, one RTSP session.
	Video string
	// Frame is the index of the decoded frame to use. It defaults to 0.
	Frame int
	// Timeout bounds a live grab. It defaults to 15 seconds.
	Timeout time.Duration
	// At is the time signage status is shown for. It defaults to now.
	At     time.Time
	Logger *slog.Logger
}

// errGot stops reading a file once the frame is in hand.
var errGot = errors.New("frame taken")

// Preview returns a PNG of one frame of the camera, masked by the mask
// stage before anything is drawn, with every zone outlined and labelled.
// Errors about the config, the camera or the source wrap ErrInput.
func Preview(ctx context.Context, cfg PreviewConfig) ([]byte, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.At.IsZero() {
		cfg.At = time.Now()
	}
	conf, err := configs.Load(cfg.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	cam, ok := conf.Camera(cfg.Camera)
	if !ok {
		return nil, fmt.Errorf("%w: camera %q is not in %s", ErrInput, cfg.Camera, cfg.ConfigPath)
	}
	cc, err := pipeline.FromConfig(conf, cam)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	var f decode.Frame
	if cfg.Video != "" {
		f, err = fileFrame(ctx, cfg.Video, cfg.Frame, cfg.Logger)
	} else {
		f, err = liveFrame(ctx, cam, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	// Through the mask stage first: nothing is drawn on an unmasked picture.
	ms, err := mask.New(mask.Config{Zones: cc.Zones, Color: cc.MaskColor, Logger: cfg.Logger})
	if err != nil {
		f.Close()
		return nil, err
	}
	mf, err := ms.Apply(f)
	if err != nil {
		return nil, err
	}
	src, err := mf.BGR()
	if err != nil {
		mf.Close()
		return nil, err
	}
	img := src.Clone()
	mf.Close()
	defer img.Close()
	Annotate(&img, cc.Zones, cfg.At, nil)
	if err := FillPrivacy(img, privacycheck.NewCache(PrivacyPolygons(cam)), cc.MaskColor); err != nil {
		return nil, err
	}
	buf, err := gocv.IMEncode(gocv.PNGFileExt, img)
	if err != nil {
		return nil, fmt.Errorf("encode PNG: %w", err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}

// fileFrame decodes the file up to frame index n (or its last frame).
func fileFrame(ctx context.Context, path string, n int, log *slog.Logger) (decode.Frame, error) {
	dec, err := decode.New(decode.Config{Logger: log})
	if err != nil {
		return decode.Frame{}, err
	}
	defer dec.Close()
	var got decode.Frame
	have := false
	take := func(frames []decode.Frame) {
		for _, f := range frames {
			if have {
				got.Close()
			}
			got, have = f, true
		}
	}
	err = mediafile.ReadFile(ctx, path, func(au media.AccessUnit) error {
		frames, _ := dec.DecodeAU(au) // errors: the decoder resumes at the next keyframe
		take(frames)
		if have && got.Seq >= uint64(n) {
			return errGot
		}
		return nil
	})
	if err != nil && !errors.Is(err, errGot) {
		if have {
			got.Close()
		}
		return decode.Frame{}, fmt.Errorf("video %s: %w", path, err)
	}
	if !have || got.Seq < uint64(n) {
		frames, _ := dec.Flush()
		take(frames)
	}
	if !have {
		return decode.Frame{}, fmt.Errorf("video %s: no frame could be decoded", path)
	}
	return got, nil
}

// liveFrame takes the first decodable frame from the camera's stream.
func liveFrame(ctx context.Context, cam *configs.Camera, cfg PreviewConfig) (decode.Frame, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	icfg := pipeline.IngestConfig(cam, cfg.Logger)
	icfg.Once = true
	ing, err := ingest.New(icfg)
	if err != nil {
		return decode.Frame{}, err
	}
	dec, err := decode.New(decode.Config{Logger: cfg.Logger})
	if err != nil {
		return decode.Frame{}, err
	}
	defer dec.Close()
	aus, finish := ing.Background(ctx, 8)
	for au := range aus {
		frames, _ := dec.DecodeAU(au)
		if len(frames) == 0 {
			continue
		}
		for _, f := range frames[1:] {
			f.Close()
		}
		_ = finish() // the frame is in hand; how the stream ended does not matter
		return frames[0], nil
	}
	err = finish()
	if err == nil {
		err = ctx.Err()
	}
	return decode.Frame{}, fmt.Errorf("camera %s (%s): no frame within %v: %w", cam.ID, redact.URL(cam.URL), cfg.Timeout, err)
}
