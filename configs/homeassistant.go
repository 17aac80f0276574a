package configs

import "strings"

// DefaultDiscoveryPrefix is Home Assistant's own default discovery prefix.
const DefaultDiscoveryPrefix = "homeassistant"

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
}

// DiscoveryOn reports whether discovery configs are published; absent means on.
func (h *HomeAssistant) DiscoveryOn() bool { return h.Discovery == nil || *h.Discovery }

func (h *HomeAssistant) applyDefaults() {
	if h.DiscoveryPrefix == "" {
		h.DiscoveryPrefix = DefaultDiscoveryPrefix
	}
}

func (h *HomeAssistant) validate(v *validator) {
	p := h.DiscoveryPrefix
	if strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		v.add("mqtt.home_assistant.discovery_prefix",
			"use the discovery prefix set in Home Assistant's MQTT integration (default homeassistant), without '+', '#' or empty levels",
			"discovery prefix %q is not a valid MQTT topic", p)
	}
}
