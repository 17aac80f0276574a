package configs

import (
	"context"
	"fmt"

	"github.com/edgeprivacy/edge/zones"
)

// ZoneList converts the camera's zones to the zones package's types, parsing
// each polygon. It fails on the first bad zone; Validate reports them all.
func (c *Camera) ZoneList() ([]zones.Zone, error) { return c.ZoneListContext(context.Background()) }

// ZoneListContext is ZoneList that gives up between zones once ctx is done
// (SIGTERM while edge builds its cameras: checking 20 polygons of 1,000
// points takes about a second), with an error wrapping ErrStopped.
func (c *Camera) ZoneListContext(ctx context.Context) ([]zones.Zone, error) {
	out := make([]zones.Zone, 0, len(c.Zones))
	for _, z := range c.Zones {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("camera %q: %w", c.ID, stopped(ctx))
		}
		p, err := zones.ParsePolygon(z.Polygon)
		if err != nil {
			return nil, fmt.Errorf("camera %q zone %q polygon: %w", c.ID, z.ID, err)
		}
		k := zones.Kind(z.Kind)
		if k != zones.Privacy && k != zones.Monitored {
			return nil, fmt.Errorf("camera %q zone %q: unknown kind %q, use privacy or monitored", c.ID, z.ID, z.Kind)
		}
		zz := zones.Zone{ID: z.ID, Kind: k, Polygon: p}
		if k == zones.Monitored {
			// A privacy zone's signage means nothing; dropping it keeps
			// consumers from treating a privacy zone as signed.
			zz.Signage = z.Signage
		}
		out = append(out, zz)
	}
	return out, nil
}

// PrivacyPolygons returns the parsed polygons of the camera's privacy zones,
// skipping any that do not parse (Validate reports those).
func (c *Camera) PrivacyPolygons() []zones.Polygon {
	var out []zones.Polygon
	for _, z := range c.Zones {
		if zones.Kind(z.Kind) != zones.Privacy {
			continue
		}
		if p, err := zones.ParsePolygon(z.Polygon); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// PrivacyFingerprint is zones.Fingerprint of the camera's privacy zones (as
// parsed; one that does not parse is left out, Validate reports it): what a
// recording segment masked under them says in its metadata.
func (c *Camera) PrivacyFingerprint() string {
	var zs []zones.Zone
	for _, z := range c.Zones {
		if zones.Kind(z.Kind) != zones.Privacy {
			continue
		}
		if p, err := zones.ParsePolygon(z.Polygon); err == nil {
			zs = append(zs, zones.Zone{ID: z.ID, Kind: zones.Privacy, Polygon: p})
		}
	}
	return zones.Fingerprint(zs)
}

// ToZones converts one sign to the zones package's type.
func (s Sign) ToZones() zones.Sign {
	return zones.Sign{
		ID:            s.ID,
		Text:          s.Text,
		Location:      s.Location,
		Purpose:       s.Purpose,
		PurposeDetail: s.PurposeDetail,
		Operator:      s.Operator,
		VerifiedAt:    s.VerifiedAt,
		ExpiresAt:     s.ExpiresAt,
	}
}

// SignMap returns the signage register keyed by sign id.
func (c *Config) SignMap() map[string]zones.Sign {
	m := make(map[string]zones.Sign, len(c.Signage))
	for _, s := range c.Signage {
		m[s.ID] = s.ToZones()
	}
	return m
}
