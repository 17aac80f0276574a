package pipeline

import (
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// FromConfig maps a camera of a loaded config to the settings of its
// pipeline: zones and signage, mask colour and detection. Production runs
// and verify runs both build their cameras through it, so an inspector's
// run analyses exactly what production would. The caller sets Source, Sink,
// Outputs and the hooks.
func FromConfig(conf *configs.Config, cam *configs.Camera) (CameraConfig, error) {
	zl, err := cam.ZoneList()
	if err != nil {
		return CameraConfig{}, err
	}
	// Two-stage association needs the weak boxes: min_score lets them
	// through, track_score says which start tracks.
	high := cam.Detect.TrackScore
	if high == 0 {
		high = max(track.DefaultHighScore, cam.Detect.MinScore)
	}
	return CameraConfig{
		Site: conf.Site, Camera: cam.ID,
		Zones: zones.NewSet(zl, conf.SignMap()).WithPersonHeight(cam.Detect.PersonHeight),
		// The file says [r, g, b]; frames are BGR.
		MaskColor: [3]uint8{uint8(cam.Mask.Color[2]), uint8(cam.Mask.Color[1]), uint8(cam.Mask.Color[0])},
		DetectFPS: cam.Detect.FPS,
		Detect: detect.Config{Kind: cam.Detect.Kind, Model: cam.Detect.Model, ModelConfig: cam.Detect.ModelConfig,
			MinScore: cam.Detect.MinScore, Width: cam.Detect.Width},
		Track: track.Config{HighScore: high,
			Hold: time.Duration(cam.Detect.HoldSeconds * float64(time.Second))},
	}, nil
}
