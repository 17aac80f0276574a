package verify

import (
	"time"

	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/stages/record"
)

// Origin is what a recording says about where it came from.
type Origin struct {
	// StartTime is the container's creation_time, or "unknown".
	StartTime string `json:"start_time"`
	Format    string `json:"format"`
	// Camera, ConfigSHA256, Revision and Signage are set only in segments
	// our recorder wrote.
	Camera       string `json:"camera,omitempty"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	Revision     string `json:"revision,omitempty"`
	Signage      string `json:"signage,omitempty"`
	// PrivacyZones is the fingerprint of the privacy zones the segment
	// was masked with (zones.Fingerprint); a change of zones cuts a
	// segment, so one segment holds pictures of one set of zones.
	PrivacyZones string `json:"privacy_zones,omitempty"`
	// PrivacyZonesMatch says whether those are the zones of the camera in
	// the config given to verify (nil when the recording names none).
	PrivacyZonesMatch *bool `json:"privacy_zones_match,omitempty"`
	// ConfigMatches says whether the recording names the config given to
	// verify (nil when the recording names none).
	ConfigMatches *bool  `json:"config_matches,omitempty"`
	Warning       string `json:"warning,omitempty"`
}

func originOf(info mediafile.Info, configSHA, privacyZones string) *Origin {
	o := &Origin{StartTime: "unknown", Format: info.Format, Camera: info.Tags[record.TagCamera],
		ConfigSHA256: info.Tags[record.TagConfigHash], Revision: info.Tags[record.TagRevision], Signage: info.Tags[record.TagSignage],
		PrivacyZones: info.Tags[record.TagPrivacyZones]}
	if ct, ok := info.Tags["creation_time"]; ok {
		if t, err := time.Parse(time.RFC3339Nano, ct); err == nil && !t.IsZero() && t.Year() > 1970 {
			o.StartTime = t.UTC().Format(time.RFC3339)
		}
	}
	if o.ConfigSHA256 != "" {
		m := o.ConfigSHA256 == configSHA
		o.ConfigMatches = &m
		if !m {
			o.Warning = "the recording was made with a different config (sha256 " + o.ConfigSHA256 + ") than the one given to verify"
		}
	}
	if o.PrivacyZones != "" {
		m := o.PrivacyZones == privacyZones
		o.PrivacyZonesMatch = &m
		if !m {
			// The pixels are still checked against the config's zones; this
			// says the recording was masked with others (before or after a
			// privacy change), so a leak or a pass may be the zones' doing.
			w := "the recording was masked with other privacy zones (" + o.PrivacyZones + ") than the config given to verify has (" + privacyZones + ")"
			if o.Warning != "" {
				w = o.Warning + "; " + w
			}
			o.Warning = w
		}
	}
	return o
}
