package bench

import (
	"fmt"
	"maps"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/edgeprivacy/edge/events"
)

// templateYAML is a trial's config made from the user's own: camera id of
// path (the first when id is empty) copied n times, with its zones and
// detector settings as they are (an ONNX detector, other zones), pointed at
// the replayed clip; MQTT, HTTP, audit and restream are the bench's, and
// the outputs are on only with outputs. Everything else (signage, ...) is
// kept, and the result is validated like any config when edge loads it.
func templateYAML(path, id string, n int, rtspAddr, brokerURL, dir string, outputs bool, restreamAddr string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("bench: --config: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("bench: --config %s: %w (check it with edge config check)", path, err)
	}
	list, _ := doc["cameras"].([]any)
	var tmpl map[string]any
	for _, c := range list {
		m, ok := c.(map[string]any)
		if ok && (id == "" || m["id"] == id) {
			tmpl = m
			break
		}
	}
	if tmpl == nil {
		if id == "" {
			return "", fmt.Errorf("bench: --config %s has no camera to copy", path)
		}
		return "", fmt.Errorf("bench: --config %s has no camera %q (--camera-id)", path, id)
	}
	cams := make([]any, n)
	for i := range n {
		c := maps.Clone(tmpl)
		c["id"], c["url"], c["transport"] = cameraID(i), fmt.Sprintf("rtsp://%s/%s", rtspAddr, cameraID(i)), "tcp"
		delete(c, "enabled")
		delete(c, "restream")
		delete(c, "snapshots")
		delete(c, "record")
		if outputs {
			c["restream"] = true
			c["snapshots"] = map[string]any{"enabled": true}
			c["record"] = map[string]any{"enabled": true, "dir": dir + "/recordings"}
		}
		cams[i] = c
	}
	doc["cameras"] = cams
	mqtt := map[string]any{"broker": brokerURL, "spool_dir": dir + "/spool", "qos": 1, "topic_prefix": events.DefaultTopicPrefix}
	doc["mqtt"] = mqtt
	doc["http"] = map[string]any{"addr": "off"}
	doc["audit"] = map[string]any{"dir": dir + "/audit"}
	doc["restream"] = map[string]any{"addr": restreamAddr}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("bench: --config %s: %w", path, err)
	}
	return string(out), nil
}
