package app

import (
	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/hass"
)

// announce offers the Home Assistant discovery configs of cfg, and an empty
// config for every entity of the previous announcement that cfg no longer
// has (a removed camera, zone or sign), so Home Assistant follows reloads.
func (r *runner) announce(cfg *configs.Config) {
	next := hass.Configs(cfg, r.prefix)
	for _, d := range hass.Removed(r.discovery, next) {
		r.sink.Offer(d)
	}
	for _, d := range next {
		r.sink.Offer(d)
	}
	r.discovery = next
}
