package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/edgeprivacy/edge/configs"
)

// cameraKey fingerprints what a camera's pipeline is built from: its own
// settings and the signs its zones refer to. The site name is in every event.
func cameraKey(cfg *configs.Config, c *configs.Camera) string {
	var signs []configs.Sign
	for _, z := range c.Zones {
		if i := slices.IndexFunc(cfg.Signage, func(s configs.Sign) bool { return s.ID == z.Signage }); i >= 0 {
			signs = append(signs, cfg.Signage[i])
		}
	}
	b, _ := json.Marshal(struct {
		Site  string
		Cam   configs.Camera
		Signs []configs.Sign
	}{cfg.Site, *c, signs})
	return string(b)
}

// restartKey fingerprints what a camera's running pipeline cannot change:
// everything cameraKey covers except its zones, the signs they refer to,
// min_score, track_score and hold_seconds, which Camera.Reconfigure applies
// in place. The URL (with its
// credentials), transport, detector and mask colour are in it: a change
// there restarts the camera.
func restartKey(cfg *configs.Config, c *configs.Camera) string {
	live := *c
	live.Zones = nil
	live.Detect.MinScore, live.Detect.TrackScore, live.Detect.HoldSeconds = 0, 0, 0
	b, _ := json.Marshal(struct {
		Site string
		Cam  configs.Camera
	}{cfg.Site, live})
	return string(b)
}

// needsRestart names the settings a reload cannot apply to a running
// process: the MQTT connection, the restream server, and each camera's masked
// outputs (restream, encoding, snapshots, recording), whose files and paths
// are open. Empty when the change can be applied live.
func needsRestart(old, next *configs.Config) string {
	var why []string
	if !jsonEqual(old.MQTT, next.MQTT) {
		why = append(why, "mqtt")
	}
	if !jsonEqual(old.Restream, next.Restream) {
		why = append(why, "restream")
	}
	if !jsonEqual(old.HTTP, next.HTTP) {
		why = append(why, "http")
	}
	outputs := func(c *configs.Camera) []any { return []any{c.Restream, c.Encode, c.Snapshots, c.Record} }
	hasOutputs := func(c *configs.Camera) bool { return c.Restream || c.Snapshots.Enabled || c.Record.Enabled }
	for _, o := range old.EnabledCameras() {
		if n, ok := next.Camera(o.ID); (!ok || !n.IsEnabled()) && hasOutputs(o) {
			// Its restream path, recording and snapshots are open.
			why = append(why, fmt.Sprintf("cameras[%s] (removing a camera with masked outputs)", o.ID))
		}
	}
	for _, n := range next.EnabledCameras() {
		o, ok := old.Camera(n.ID)
		switch {
		case !ok || !o.IsEnabled():
			if hasOutputs(n) {
				why = append(why, fmt.Sprintf("cameras[%s] (a new camera with masked outputs)", n.ID))
			}
		case !jsonEqual(outputs(o), outputs(n)):
			why = append(why, fmt.Sprintf("cameras[%s].restream/encode/snapshots/record", n.ID))
		}
	}
	return strings.Join(why, ", ")
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
