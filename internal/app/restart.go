package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/edgeprivacy/edge/configs"
)

// analysed is c without its masked outputs (restream, encode, snapshots,
// record): outputs.reconfigure applies those behind the running pipeline.
func analysed(c *configs.Camera) configs.Camera {
	a := *c
	a.Restream, a.Encode, a.Snapshots, a.Record = false, configs.Encode{}, configs.Snapshots{}, configs.Record{}
	return a
}

// cameraKey fingerprints what a camera's pipeline is built from: its own
// settings but its outputs, and the signs its zones refer to. The site name
// is in every event.
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
	}{cfg.Site, analysed(c), signs})
	return string(b)
}

// restartKey fingerprints what a camera's running pipeline cannot change:
// everything cameraKey covers except its zones (privacy ones included: a
// new mask epoch), the signs they refer to, min_score, track_score and
// hold_seconds, which Camera.Reconfigure applies in place. The URL (with
// its credentials), transport, detector and mask colour are in it: a
// change there restarts the camera.
func restartKey(cfg *configs.Config, c *configs.Camera) string {
	live := analysed(c)
	live.Zones = nil
	live.Detect.MinScore, live.Detect.TrackScore, live.Detect.HoldSeconds = 0, 0, 0
	b, _ := json.Marshal(struct {
		Site string
		Cam  configs.Camera
	}{cfg.Site, live})
	return string(b)
}

// needsRestart names the settings a reload cannot apply to a running
// process: the MQTT connection, the restream and HTTP servers, and a camera
// with masked outputs added or removed. A running camera's output settings
// are applied live (outputs.reconfigure). Empty when the change can be
// applied live.
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
	hasOutputs := func(c *configs.Camera) bool { return c.Restream || c.Snapshots.Enabled || c.Record.Enabled }
	for _, o := range old.EnabledCameras() {
		if n, ok := next.Camera(o.ID); (!ok || !n.IsEnabled()) && hasOutputs(o) {
			// Its restream path, recording and snapshots are open.
			why = append(why, fmt.Sprintf("cameras[%s] (removing a camera with masked outputs)", o.ID))
		}
	}
	for _, n := range next.EnabledCameras() {
		if o, ok := old.Camera(n.ID); (!ok || !o.IsEnabled()) && hasOutputs(n) {
			why = append(why, fmt.Sprintf("cameras[%s] (a new camera with masked outputs)", n.ID))
		}
	}
	return strings.Join(why, ", ")
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
