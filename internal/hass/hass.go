// Package hass builds Home Assistant MQTT discovery configs for a site: one
// Home Assistant device per enabled camera, with an occupancy sensor and a
// person-present binary sensor per monitored zone, a camera status sensor,
// a validity binary sensor per sign its zones rely on, and, when the camera
// publishes masked snapshots, a camera entity showing the latest one.
//
// Every entity reads the topics edge already publishes (see docs/mqtt.md);
// nothing is published for Home Assistant alone except the configs. Unique
// ids derive from the topic prefix and the config ids, so they are stable
// across restarts, and removing a camera or zone removes its entities
// (Removed).
package hass

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/zones"
)

// Components (Home Assistant platforms) edge publishes configs for.
const (
	Sensor       = "sensor"
	BinarySensor = "binary_sensor"
	Camera       = "camera"
)

// entity is one discovery config before it is marshalled. Keys follow Home
// Assistant's MQTT discovery schema; empty ones are left out.
type entity struct {
	Name                   string         `json:"name"`
	UniqueID               string         `json:"unique_id"`
	StateTopic             string         `json:"state_topic,omitempty"`
	Topic                  string         `json:"topic,omitempty"` // camera platform
	ValueTemplate          string         `json:"value_template,omitempty"`
	JSONAttributesTopic    string         `json:"json_attributes_topic,omitempty"`
	JSONAttributesTemplate string         `json:"json_attributes_template,omitempty"`
	DeviceClass            string         `json:"device_class,omitempty"`
	StateClass             string         `json:"state_class,omitempty"`
	UnitOfMeasurement      string         `json:"unit_of_measurement,omitempty"`
	Options                []string       `json:"options,omitempty"`
	Icon                   string         `json:"icon,omitempty"`
	EntityCategory         string         `json:"entity_category,omitempty"`
	AvailabilityTopic      string         `json:"availability_topic"`
	PayloadAvailable       string         `json:"payload_available"`
	PayloadNotAvailable    string         `json:"payload_not_available"`
	Device                 device         `json:"device"`
	Origin                 map[string]any `json:"origin"`
}

type device struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
}

// Configs returns the discovery configs of every enabled camera of cfg, whose
// topics start with prefix (the publisher's topic prefix); nil when
// mqtt.home_assistant.discovery is off. The order is stable.
func Configs(cfg *configs.Config, prefix string) []events.Discovery {
	ha := cfg.MQTT.HomeAssistant
	if !ha.DiscoveryOn() {
		return nil
	}
	b := builder{cfg: cfg, prefix: prefix, discovery: ha.DiscoveryPrefix, node: node(cfg, prefix)}
	var out []events.Discovery
	for _, c := range cfg.EnabledCameras() {
		out = append(out, b.camera(c)...)
	}
	return out
}

// Owned returns the topic filter that holds every discovery config of this
// box (its node id under the discovery prefix), for the publisher to clear
// what an earlier run left there; nil when discovery is off.
func Owned(cfg *configs.Config, prefix string) []string {
	ha := cfg.MQTT.HomeAssistant
	if !ha.DiscoveryOn() {
		return nil
	}
	return []string{ha.DiscoveryPrefix + "/+/" + node(cfg, prefix) + "/+/config"}
}

// node is the node id level of this box's discovery topics: its box id when
// mqtt.home_assistant.node_id is box (box ids are already valid node ids),
// otherwise derived from the topic prefix.
func node(cfg *configs.Config, prefix string) string {
	if cfg.MQTT.HomeAssistant.NodeID == configs.NodeIDBox && cfg.BoxID != "" {
		return cfg.BoxID
	}
	return nodeID(prefix)
}

// Removed returns an empty (removing) config for every topic of old that is
// not in next: the entities of removed cameras, zones and signs.
func Removed(old, next []events.Discovery) []events.Discovery {
	var out []events.Discovery
	for _, o := range old {
		if !slices.ContainsFunc(next, func(n events.Discovery) bool { return n.ConfigTopic == o.ConfigTopic }) {
			out = append(out, events.Discovery{ConfigTopic: o.ConfigTopic})
		}
	}
	return out
}

type builder struct {
	cfg       *configs.Config
	prefix    string
	discovery string
	node      string
}

func (b builder) camera(c *configs.Camera) []events.Discovery {
	dev := device{
		Identifiers:  []string{"edge:" + b.prefix + "/" + c.ID},
		Name:         c.ID,
		Manufacturer: "edge",
		Model:        "privacy-masked camera",
	}
	base := func(name, key string) entity {
		return entity{
			Name:                name,
			UniqueID:            "edge:" + b.prefix + "/" + c.ID + "/" + key,
			AvailabilityTopic:   events.AvailabilityTopic(b.prefix),
			PayloadAvailable:    events.Online,
			PayloadNotAvailable: events.Offline,
			Device:              dev,
			Origin:              map[string]any{"name": "edge"},
		}
	}
	state := events.StateTopic(b.prefix, c.ID)
	var out []events.Discovery

	st := base("status", "status")
	st.StateTopic = state
	st.ValueTemplate = "{{ value_json.status }}"
	st.DeviceClass = "enum"
	st.Options = []string{events.StatusConnecting, events.StatusStreaming, events.StatusError, events.StatusStopped, events.StatusUnsupported}
	st.JSONAttributesTopic = state
	st.JSONAttributesTemplate = `{{ {"reason": value_json.reason | default(""), "codec": value_json.codec, "width": value_json.width, "height": value_json.height, "input_fps": value_json.input_fps, "processed_fps": value_json.processed_fps, "frames_dropped": value_json.frames_dropped} | tojson }}`
	st.EntityCategory = "diagnostic"
	st.Icon = "mdi:cctv"
	out = append(out, b.config(Sensor, c.ID, "status", st))

	for _, z := range c.Zones {
		if zones.Kind(z.Kind) != zones.Monitored {
			continue
		}
		occ := events.OccupancyTopic(b.prefix, c.ID, z.ID)
		o := base(z.ID+" occupancy", "zone/"+z.ID+"/occupancy")
		o.StateTopic = occ
		o.StateClass = "measurement"
		o.UnitOfMeasurement = "people"
		o.Icon = "mdi:account-group"
		out = append(out, b.config(Sensor, c.ID, "zone_"+z.ID+"_occupancy", o))

		p := base(z.ID+" person", "zone/"+z.ID+"/person")
		p.StateTopic = occ
		p.ValueTemplate = "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}"
		p.DeviceClass = "occupancy"
		out = append(out, b.config(BinarySensor, c.ID, "zone_"+z.ID+"_person", p))
	}
	var signs []string // each sign the camera relies on, once, in file order
	for _, u := range c.SignUses() {
		if !slices.Contains(signs, u.Sign) {
			signs = append(signs, u.Sign)
		}
	}
	for _, id := range signs {
		s := base("sign "+id+" valid", "sign/"+id+"/valid")
		// Validity is the registered period, judged as edge judges it
		// (verified_at <= now < expires_at), each time the camera's state
		// arrives (every few seconds): the camera's own sign has no status
		// of its own on any topic.
		s.StateTopic = state
		s.ValueTemplate, s.JSONAttributesTemplate = signTemplates(b.cfg, id)
		s.JSONAttributesTopic = state
		s.EntityCategory = "diagnostic"
		s.Icon = "mdi:sign-caution"
		out = append(out, b.config(BinarySensor, c.ID, "sign_"+id+"_valid", s))
	}
	if c.Snapshots.Enabled {
		cam := base("snapshot", "snapshot")
		cam.Topic = events.SnapshotTopic(b.prefix, c.ID)
		out = append(out, b.config(Camera, c.ID, "snapshot", cam))
	}
	return out
}

// signTemplates are the value and attribute templates of a sign's validity:
// both ignore the message and use the sign's register entry (its period
// comes from the config, not from a topic). A sign not in the register (the
// config refuses that) is never valid.
func signTemplates(cfg *configs.Config, id string) (value, attributes string) {
	i := slices.IndexFunc(cfg.Signage, func(s configs.Sign) bool { return s.ID == id })
	if i < 0 {
		return "OFF", fmt.Sprintf(`{{ {"signage_id": "%s"} | tojson }}`, id)
	}
	s := cfg.Signage[i]
	from, until := s.VerifiedAt.UTC().Format(time.RFC3339), s.ExpiresAt.UTC().Format(time.RFC3339)
	value = fmt.Sprintf("{{ 'ON' if as_datetime('%s') <= now() < as_datetime('%s') else 'OFF' }}", from, until)
	// Ids and RFC 3339 times hold no quote or brace, so JSON is a valid
	// Jinja dict literal here.
	j, _ := json.Marshal(map[string]string{"signage_id": id, "verified_at": from, "expires_at": until}) // strings always marshal
	return value, "{{ " + string(j) + " | tojson }}"
}

// config marshals e for topic {discovery}/{component}/{node}/{object}/config.
// The object id is readable and ends in a hash of the camera and the key:
// ids may hold '_' and '-', so no separator alone keeps "a_b"+"c" apart from
// "a"+"b_c".
func (b builder) config(component, camera, key string, e entity) events.Discovery {
	sum := sha256.Sum256([]byte(camera + "\x00" + key))
	object := camera + "_" + key + "_" + hex.EncodeToString(sum[:4])
	payload, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("hass: marshal discovery config: %v", err)) // plain strings only
	}
	return events.Discovery{
		ConfigTopic: b.discovery + "/" + component + "/" + b.node + "/" + object + "/config",
		Config:      payload,
	}
}

// nodeID makes the topic prefix one discovery topic level (Home Assistant
// allows only [A-Za-z0-9_-] there), so two boxes with different prefixes
// never share discovery topics. A prefix that had to be changed gets a hash
// of itself, so "a/b" and "a_b" stay apart.
func nodeID(prefix string) string {
	node := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, prefix)
	if node == prefix {
		return node
	}
	sum := sha256.Sum256([]byte(prefix))
	return node + "_" + hex.EncodeToString(sum[:4])
}
