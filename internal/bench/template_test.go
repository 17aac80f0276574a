package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

// TestTemplate: the bench copies a camera of the user's config, zones and
// detector as they are, and takes over what must be its own.
func TestTemplate(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(user, []byte(`
site: shop
mqtt: {broker: "tcp://10.0.0.1:1883", topic_prefix: shop}
http: {addr: "0.0.0.0:80", username: u, password: p}
cameras:
  - id: other
    url: rtsp://10.0.0.2/x
    zones: []
  - id: door
    url: rtsp://user:secret@10.0.0.3/main
    enabled: false
    restream: true
    signage: cam-sign
    detect: {fps: 2, width: 320, min_score: 0.7}
    zones:
      - {id: loo, kind: privacy, polygon: [[0, 0], [0.3, 0], [0.3, 1], [0, 1]]}
      - {id: aisle, kind: monitored, signage: s1, polygon: [[0.4, 0], [1, 0], [1, 1], [0.4, 1]]}
signage:
  - {id: s1, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2099-01-01}
  - {id: cam-sign, purpose: crowd-safety, verified_at: 2026-01-01, expires_at: 2099-01-01}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := templateYAML(user, "door", 3, "127.0.0.1:9554", "tcp://127.0.0.1:9883", dir, false, "127.0.0.1:9555")
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.LoadBytes([]byte(text))
	if err != nil {
		t.Fatalf("the bench's config does not load: %v\n%s", err, text)
	}
	if len(c.Cameras) != 3 || c.MQTT.Broker != "tcp://127.0.0.1:9883" || c.HTTP.Addr != "off" || c.MQTT.TopicPrefix != "edge" {
		t.Fatalf("cameras %d, broker %q, http %q, prefix %q", len(c.Cameras), c.MQTT.Broker, c.HTTP.Addr, c.MQTT.TopicPrefix)
	}
	for i, cam := range c.Cameras {
		if cam.ID != cameraID(i) || cam.URL != "rtsp://127.0.0.1:9554/"+cameraID(i) || !cam.IsEnabled() || cam.Restream {
			t.Errorf("camera %d: id %q url %q enabled %v restream %v", i, cam.ID, cam.URL, cam.IsEnabled(), cam.Restream)
		}
		if cam.Detect.FPS != 2 || cam.Detect.Width != 320 || cam.Detect.MinScore != 0.7 || len(cam.Zones) != 2 || cam.Zones[0].ID != "loo" {
			t.Errorf("camera %d did not copy door's detector and zones: %+v %+v", i, cam.Detect, cam.Zones)
		}
	}
	if strings.Contains(text, "secret") || strings.Contains(text, "10.0.0") {
		t.Errorf("the camera's own address or credentials reached the bench config:\n%s", text)
	}
	if _, err := templateYAML(user, "nope", 1, "a", "b", dir, false, "c"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown camera: %v", err)
	}
}
