package configs

import "strings"

// DefaultDiscoveryPrefix is Home Assistant's own default discovery prefix.
const DefaultDiscoveryPrefix = "homeassistant"

// Node ids of the discovery topics ({discovery_prefix}/{component}/{node_id}/...).
const (
	// NodeIDPrefix derives the node id from the topic prefix (the default,
	// as before box ids existed): boxes need only different prefixes.
	NodeIDPrefix = "prefix"
	// NodeIDBox makes the node id the box id, so that a broker ACL can
	// confine each box to its own discovery configs by user name (Mosquitto
	// %u, RabbitMQ {username}); box ids must then be unique across the
	// fleet.
	NodeIDBox = "box"
)

// HomeAssistant configures Home Assistant MQTT discovery: edge publishes a
// retained config per entity under DiscoveryPrefix, so that every camera
// appears in Home Assistant as a device without hand-written sensors.
type HomeAssistant struct {
	// Discovery turns discovery on. It defaults to true; a pointer so that
	// an absent key is told apart from false. Use DiscoveryOn.
	Discovery *bool `mapstructure:"discovery"`
	// DiscoveryPrefix is the first topic level Home Assistant listens on
	// for discovery. It defaults to "homeassistant".
	DiscoveryPrefix string `mapstructure:"discovery_prefix"`
	// NodeID is what the node id level of the discovery topics is made of:
	// NodeIDPrefix (the default) or NodeIDBox. Changing it moves every
	// config to other topics; the ones at the old topics stay retained
	// until cleared (docs/fleet.md).
	NodeID string `mapstructure:"node_id"`
}

// DiscoveryOn reports whether discovery configs are published; absent means on.
func (h *HomeAssistant) DiscoveryOn() bool { return h.Discovery == nil || *h.Discovery }

func (h *HomeAssistant) applyDefaults() {
	if h.DiscoveryPrefix == "" {
		h.DiscoveryPrefix = DefaultDiscoveryPrefix
	}
	if h.NodeID == "" {
		h.NodeID = NodeIDPrefix
	}
}

func (h *HomeAssistant) validate(v *validator) {
	p := h.DiscoveryPrefix
	if strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		v.add("mqtt.home_assistant.discovery_prefix",
			"use the discovery prefix set in Home Assistant's MQTT integration (default homeassistant), without '+', '#' or empty levels",
			"discovery prefix %q is not a valid MQTT topic", p)
	}
	if h.NodeID != NodeIDPrefix && h.NodeID != NodeIDBox {
		v.add("mqtt.home_assistant.node_id",
			"use prefix (the default) or box (the box id, for per-box broker ACLs)",
			"node_id %q is neither prefix nor box", h.NodeID)
	}
}
