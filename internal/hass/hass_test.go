package hass_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/hass"
)

const siteYAML = `
site: gym
mqtt:
  broker: tcp://127.0.0.1:1883
cameras:
  - id: hall
    url: rtsp://127.0.0.1:8554/hall
    signage: hall-cam-sign
    snapshots:
      enabled: true
    zones:
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]
      - id: floor
        kind: monitored
        signage: hall-sign
        polygon: [[0.3, 0.3], [1, 0.3], [1, 1], [0.3, 1]]
      - id: bench
        kind: monitored
        signage: hall-sign
        polygon: [[0.3, 0], [1, 0], [1, 0.2]]
  - id: yard
    url: rtsp://127.0.0.1:8554/yard
    zones:
      - id: gate
        kind: monitored
        signage: yard-sign
        polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
  - id: off
    url: rtsp://127.0.0.1:8554/off
    enabled: false
    zones:
      - id: gate
        kind: monitored
        signage: yard-sign
        polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]
signage:
  - id: hall-cam-sign
    purpose: public-safety
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2030-01-01T00:00:00Z
  - id: hall-sign
    purpose: fire-safety
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2030-01-01T00:00:00Z
  - id: yard-sign
    purpose: fire-safety
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2029-06-30T00:00:00Z
`

func load(t *testing.T, yaml string) *configs.Config {
	t.Helper()
	cfg, err := configs.LoadBytes([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// schema lists, per platform, the keys Home Assistant's MQTT discovery
// requires and every key it accepts (https://www.home-assistant.io/integrations/
// sensor.mqtt/, binary_sensor.mqtt/, camera.mqtt/, and the shared availability,
// device and entity keys); an unknown key is a typo Home Assistant would
// reject or ignore.
var schema = map[string]struct{ required, allowed []string }{
	hass.Sensor: {
		required: []string{"state_topic"},
		allowed: []string{"state_topic", "value_template", "state_class", "unit_of_measurement", "device_class",
			"options", "expire_after", "force_update", "suggested_display_precision", "last_reset_value_template"},
	},
	hass.BinarySensor: {
		required: []string{"state_topic"},
		allowed:  []string{"state_topic", "value_template", "device_class", "payload_on", "payload_off", "off_delay", "expire_after", "force_update"},
	},
	hass.Camera: {
		required: []string{"topic"},
		allowed:  []string{"topic", "image_encoding"},
	},
}

var common = []string{"name", "unique_id", "availability_topic", "payload_available", "payload_not_available",
	"availability_mode", "availability", "device", "origin", "icon", "entity_category", "enabled_by_default",
	"json_attributes_topic", "json_attributes_template", "qos", "encoding", "default_entity_id", "entity_picture"}

// topicRE is HA's discovery topic: <prefix>/<component>/<node_id>/<object_id>/config.
var topicRE = regexp.MustCompile(`^([^/]+(?:/[^/]+)*)/(sensor|binary_sensor|camera)/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)/config$`)

type parsed struct {
	component string
	keys      map[string]any
}

func parse(t *testing.T, d events.Discovery) parsed {
	t.Helper()
	m := topicRE.FindStringSubmatch(d.ConfigTopic)
	if m == nil {
		t.Fatalf("discovery topic %q is not <prefix>/<component>/<node_id>/<object_id>/config", d.ConfigTopic)
	}
	if m[1] != "homeassistant" {
		t.Errorf("%s: discovery prefix %q, want the default homeassistant", d.ConfigTopic, m[1])
	}
	var keys map[string]any
	if err := json.Unmarshal(d.Config, &keys); err != nil {
		t.Fatalf("%s: config is not JSON: %v", d.ConfigTopic, err)
	}
	return parsed{m[2], keys}
}

func TestConfigsFollowHomeAssistantSchema(t *testing.T) {
	cfg := load(t, siteYAML)
	ds := hass.Configs(cfg, "edge/gym")
	count := map[string]int{}
	uniq := map[string]bool{}
	for _, d := range ds {
		p := parse(t, d)
		count[p.component]++
		sc := schema[p.component]
		for _, k := range sc.required {
			if s, _ := p.keys[k].(string); s == "" {
				t.Errorf("%s: required key %q missing", d.ConfigTopic, k)
			}
		}
		for k := range p.keys {
			if !slices.Contains(sc.allowed, k) && !slices.Contains(common, k) {
				t.Errorf("%s: key %q is not in Home Assistant's %s discovery schema", d.ConfigTopic, k, p.component)
			}
		}
		uid, _ := p.keys["unique_id"].(string)
		if uid == "" || uniq[uid] {
			t.Errorf("%s: unique_id %q empty or repeated", d.ConfigTopic, uid)
		}
		uniq[uid] = true
		dev, _ := p.keys["device"].(map[string]any)
		if ids, _ := dev["identifiers"].([]any); len(ids) != 1 {
			t.Errorf("%s: device.identifiers = %v, want one identifier (a device needs identifiers or connections)", d.ConfigTopic, dev["identifiers"])
		}
		if got := p.keys["availability_topic"]; got != "edge/gym/available" {
			t.Errorf("%s: availability_topic %v, want edge/gym/available", d.ConfigTopic, got)
		}
		if p.keys["payload_available"] != events.Online || p.keys["payload_not_available"] != events.Offline {
			t.Errorf("%s: availability payloads %v/%v do not match what edge publishes", d.ConfigTopic, p.keys["payload_available"], p.keys["payload_not_available"])
		}
		for _, k := range []string{"state_topic", "topic", "json_attributes_topic"} {
			if s, ok := p.keys[k].(string); ok && !strings.HasPrefix(s, "edge/gym/") {
				t.Errorf("%s: %s %q is not under the topic prefix", d.ConfigTopic, k, s)
			}
		}
	}
	// hall: status, 2 zones x (occupancy + person), 2 signs (camera,
	// zones), snapshot; yard: status, 1 zone x 2, 1 sign, no snapshot;
	// off: nothing.
	want := map[string]int{hass.Sensor: 2 + 2 + 1, hass.BinarySensor: 2 + 2 + 1 + 1, hass.Camera: 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s configs, want %d (all: %v)", count[k], k, n, count)
		}
	}
	for _, d := range ds {
		if strings.Contains(d.ConfigTopic, "off_") || strings.Contains(string(d.Config), "edge/gym/off/") {
			t.Errorf("disabled camera has entity %s", d.ConfigTopic)
		}
		if strings.Contains(string(d.Config), "/door/") {
			t.Errorf("privacy zone has entity %s", d.ConfigTopic)
		}
	}
}

// find returns the config whose unique id ends in suffix.
func find(t *testing.T, ds []events.Discovery, suffix string) parsed {
	t.Helper()
	for _, d := range ds {
		p := parse(t, d)
		if uid, _ := p.keys["unique_id"].(string); strings.HasSuffix(uid, suffix) {
			return p
		}
	}
	t.Fatalf("no entity with unique id ending in %q", suffix)
	return parsed{}
}

func TestEntitiesReadTheTopicsEdgePublishes(t *testing.T) {
	ds := hass.Configs(load(t, siteYAML), "edge/gym")

	occ := find(t, ds, "hall/zone/floor/occupancy")
	if occ.component != hass.Sensor || occ.keys["state_topic"] != events.OccupancyTopic("edge/gym", "hall", "floor") ||
		occ.keys["state_class"] != "measurement" {
		t.Errorf("occupancy sensor: %v", occ)
	}
	person := find(t, ds, "hall/zone/floor/person")
	if person.component != hass.BinarySensor || person.keys["state_topic"] != events.OccupancyTopic("edge/gym", "hall", "floor") ||
		person.keys["device_class"] != "occupancy" {
		t.Errorf("person sensor: %v", person)
	}
	status := find(t, ds, "hall/status")
	if status.keys["state_topic"] != events.StateTopic("edge/gym", "hall") || status.keys["value_template"] != "{{ value_json.status }}" {
		t.Errorf("status sensor: %v", status)
	}
	sign := find(t, ds, "yard/sign/yard-sign/valid")
	if sign.component != hass.BinarySensor || !strings.Contains(sign.keys["json_attributes_template"].(string), `"expires_at":"2029-06-30T00:00:00Z"`) {
		t.Errorf("sign sensor has no expiry attribute: %v", sign)
	}
	if vt := sign.keys["value_template"].(string); !strings.Contains(vt, "as_datetime('2026-01-01T00:00:00Z') <= now() < as_datetime('2029-06-30T00:00:00Z')") {
		t.Errorf("sign sensor is not valid over the registered period: %s", vt)
	}
	find(t, ds, "hall/sign/hall-cam-sign/valid") // the camera's own sign
	snap := find(t, ds, "hall/snapshot")
	if snap.component != hass.Camera || snap.keys["topic"] != events.SnapshotTopic("edge/gym", "hall") {
		t.Errorf("snapshot camera: %v", snap)
	}
	// One device per camera: every hall entity names the same device.
	devs := map[string]bool{}
	for _, d := range ds {
		p := parse(t, d)
		id := p.keys["device"].(map[string]any)["identifiers"].([]any)[0].(string)
		devs[id] = true
	}
	if len(devs) != 2 {
		t.Errorf("%d devices, want one per enabled camera (2): %v", len(devs), devs)
	}
}

func TestUniqueIDsStableAndDistinct(t *testing.T) {
	a := hass.Configs(load(t, siteYAML), "edge/gym")
	b := hass.Configs(load(t, siteYAML), "edge/gym")
	if len(a) != len(b) {
		t.Fatalf("two builds differ in size: %d, %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ConfigTopic != b[i].ConfigTopic || string(a[i].Config) != string(b[i].Config) {
			t.Errorf("build %d differs:\n%s\n%s", i, a[i].Config, b[i].Config)
		}
	}
	// Ids may hold '_': camera a_b zone c and camera a zone b_c must not
	// share a topic or unique id.
	tricky := `
site: s
cameras:
  - id: a_b
    url: rtsp://127.0.0.1/x
    zones: [{id: c, kind: monitored, signage: sg, polygon: [[0,0],[1,0],[1,1]]}]
  - id: a
    url: rtsp://127.0.0.1/y
    zones: [{id: b_c, kind: monitored, signage: sg, polygon: [[0,0],[1,0],[1,1]]}]
signage: [{id: sg, purpose: fire-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}]
`
	topics := map[string]bool{}
	for _, d := range hass.Configs(load(t, tricky), "edge") {
		if topics[d.ConfigTopic] {
			t.Errorf("two entities share %s", d.ConfigTopic)
		}
		topics[d.ConfigTopic] = true
	}
	// Prefixes that differ only in '/' vs '_' get different node ids.
	x := hass.Configs(load(t, siteYAML), "edge/gym")[0].ConfigTopic
	y := hass.Configs(load(t, siteYAML), "edge_gym")[0].ConfigTopic
	if x == y {
		t.Errorf("prefixes edge/gym and edge_gym share discovery topic %s", x)
	}
}

func TestDiscoveryOffAndPrefix(t *testing.T) {
	off := strings.Replace(siteYAML, "  broker: tcp://127.0.0.1:1883\n", "  broker: tcp://127.0.0.1:1883\n  home_assistant:\n    discovery: false\n", 1)
	if ds := hass.Configs(load(t, off), "edge"); ds != nil {
		t.Errorf("discovery off still gives %d configs", len(ds))
	}
	other := strings.Replace(siteYAML, "  broker: tcp://127.0.0.1:1883\n", "  broker: tcp://127.0.0.1:1883\n  home_assistant:\n    discovery_prefix: ha/disc\n", 1)
	for _, d := range hass.Configs(load(t, other), "edge") {
		if !strings.HasPrefix(d.ConfigTopic, "ha/disc/") {
			t.Errorf("topic %s ignores discovery_prefix", d.ConfigTopic)
		}
	}
	bad := strings.Replace(siteYAML, "  broker: tcp://127.0.0.1:1883\n", "  broker: tcp://127.0.0.1:1883\n  home_assistant:\n    discovery_prefix: ha/#\n", 1)
	if _, err := configs.LoadBytes([]byte(bad)); err == nil || !strings.Contains(err.Error(), "mqtt.home_assistant.discovery_prefix") {
		t.Errorf("wildcard discovery prefix accepted or not named: %v", err)
	}
}

func TestRemovedClearsWhatWentAway(t *testing.T) {
	cfg := load(t, siteYAML)
	old := hass.Configs(cfg, "edge/gym")
	// Drop the bench zone and the yard camera.
	next := strings.Replace(siteYAML, `      - id: bench
        kind: monitored
        signage: hall-sign
        polygon: [[0.3, 0], [1, 0], [1, 0.2]]
`, "", 1)
	next = strings.Replace(next, "  - id: yard\n    url: rtsp://127.0.0.1:8554/yard\n", "  - id: yard\n    url: rtsp://127.0.0.1:8554/yard\n    enabled: false\n", 1)
	nds := hass.Configs(load(t, next), "edge/gym")
	rm := hass.Removed(old, nds)
	// bench: occupancy + person; yard: status, gate x2, sign.
	if len(rm) != 6 {
		t.Fatalf("removed %d configs, want 6: %v", len(rm), rm)
	}
	for _, d := range rm {
		if len(d.Config) != 0 || !d.Retained() {
			t.Errorf("removal of %s is not an empty retained payload", d.ConfigTopic)
		}
		if !strings.Contains(d.ConfigTopic, "bench") && !strings.Contains(d.ConfigTopic, "/yard_") {
			t.Errorf("removed %s, which is still configured", d.ConfigTopic)
		}
	}
	if len(hass.Removed(old, old)) != 0 {
		t.Error("an unchanged config removes entities")
	}
}

// TestNodeIDBox: with node_id: box every discovery topic carries the box id
// as its node id, a valid Home Assistant node id, so that a broker ACL can
// confine a box to homeassistant/+/<its user name>/+/config; the default
// keeps the node id made from the topic prefix.
func TestNodeIDBox(t *testing.T) {
	withBox := strings.Replace(siteYAML, "site: gym\n", "site: gym\nbox_id: gym-box7\n", 1)
	box := strings.Replace(withBox, "  broker: tcp://127.0.0.1:1883\n", "  broker: tcp://127.0.0.1:1883\n  home_assistant:\n    node_id: box\n", 1)
	cfg := load(t, box)
	ds := hass.Configs(cfg, cfg.Topics())
	if len(ds) == 0 {
		t.Fatal("no discovery configs")
	}
	for _, d := range ds {
		m := topicRE.FindStringSubmatch(d.ConfigTopic)
		if m == nil || m[3] != "gym-box7" {
			t.Errorf("topic %s: node id is not the box id gym-box7", d.ConfigTopic)
		}
		parse(t, d) // still valid discovery
	}
	if got := hass.Owned(cfg, cfg.Topics()); len(got) != 1 || got[0] != "homeassistant/+/gym-box7/+/config" {
		t.Errorf("owned %v, want the box's own discovery subtree", got)
	}
	def := load(t, withBox)
	for _, d := range hass.Configs(def, def.Topics()) {
		if strings.Split(d.ConfigTopic, "/")[2] == "gym-box7" {
			t.Errorf("default node id is the box id in %s; want the one made from the prefix", d.ConfigTopic)
		}
	}
	bad := strings.Replace(box, "node_id: box", "node_id: host", 1)
	if _, err := configs.LoadBytes([]byte(bad)); err == nil || !strings.Contains(err.Error(), "mqtt.home_assistant.node_id") {
		t.Errorf("node_id host accepted or not named: %v", err)
	}
}
