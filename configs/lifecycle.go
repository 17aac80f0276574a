package configs

import (
	"fmt"
	"time"

	"github.com/edgeprivacy/edge/zones"
)

// Sign lifecycle thresholds: `edge config check` warns this long before a
// sign's verification lapses; `edge run` alerts on MQTT from SignExpiryAlert.
const (
	SignExpiryWarning = 30 * 24 * time.Hour
	SignExpiryAlert   = 7 * 24 * time.Hour
)

// Lifecycle states of a sign, as `edge config check` and the compliance topic
// show them.
const (
	LifecycleValid    = "valid"
	LifecycleExpiring = "expiring"
	LifecycleExpired  = "expired"
	LifecyclePending  = "not yet valid"
)

// SignState is one sign's lifecycle at a moment.
type SignState struct {
	ID        string    `json:"id"`
	Lifecycle string    `json:"status"`
	Purpose   string    `json:"purpose"`
	Verified  time.Time `json:"verified_at"`
	Expires   time.Time `json:"expires_at"`
	// UsedBy names what the sign permits: cameras[c] for image outputs,
	// cameras[c].zones[z] for analysis.
	UsedBy []string `json:"used_by,omitempty"`
}

// Warning reports whether the state needs attention: anything but valid.
func (s SignState) Warning() bool { return s.Lifecycle != LifecycleValid }

// Valid reports whether the sign permits what it covers now (an expiring
// sign still does).
func (s SignState) Valid() bool {
	return s.Lifecycle == LifecycleValid || s.Lifecycle == LifecycleExpiring
}

// Describe is one human line: "expired 2025-06-30 (12 days ago)".
func (s SignState) Describe(now time.Time) string {
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	days := func(d time.Duration) int { return int(d.Hours() / 24) }
	switch s.Lifecycle {
	case LifecycleExpired:
		return fmt.Sprintf("expired %s (%d days ago)", day(s.Expires), days(now.Sub(s.Expires)))
	case LifecyclePending:
		return fmt.Sprintf("not yet valid: verified_at %s is in the future", day(s.Verified))
	case LifecycleExpiring:
		return fmt.Sprintf("expiring %s (in %d days)", day(s.Expires), days(s.Expires.Sub(now)))
	}
	return fmt.Sprintf("valid until %s (%d days)", day(s.Expires), days(s.Expires.Sub(now)))
}

// SignUse is one thing a sign permits: a camera's image outputs (Zone
// empty) or the analysis of one of its monitored zones.
type SignUse struct {
	Sign, Camera, Zone string
}

// String is the use as a config path: cameras[c] or cameras[c].zones[z].
func (u SignUse) String() string {
	if u.Zone == "" {
		return "cameras[" + u.Camera + "]"
	}
	return "cameras[" + u.Camera + "].zones[" + u.Zone + "]"
}

// SignUses lists what the signs c names permit, in file order: the camera's
// own sign (its image outputs) first, then each monitored zone's. A privacy
// zone needs no sign and is never listed. This is the one rule of what a
// sign covers, for `edge config check`, the compliance alerts, the console
// and Home Assistant alike.
func (c *Camera) SignUses() []SignUse {
	var out []SignUse
	if c.Signage != "" {
		out = append(out, SignUse{Sign: c.Signage, Camera: c.ID})
	}
	for _, z := range c.Zones {
		if zones.Kind(z.Kind) == zones.Monitored && z.Signage != "" {
			out = append(out, SignUse{Sign: z.Signage, Camera: c.ID, Zone: z.ID})
		}
	}
	return out
}

// SignUsers lists what the sign id permits on every camera, enabled or not,
// in file order (see Camera.SignUses); nil when nothing refers to it.
func (c *Config) SignUsers(id string) []SignUse {
	var out []SignUse
	for i := range c.Cameras {
		for _, u := range c.Cameras[i].SignUses() {
			if u.Sign == id {
				out = append(out, u)
			}
		}
	}
	return out
}

// SignStates returns every registered sign's state at now, in file order;
// a sign is "expiring" when it lapses within warn.
func (c *Config) SignStates(now time.Time, warn time.Duration) []SignState {
	out := make([]SignState, 0, len(c.Signage))
	for _, s := range c.Signage {
		var used []string
		for _, u := range c.SignUsers(s.ID) {
			used = append(used, u.String())
		}
		out = append(out, SignState{ID: s.ID, Lifecycle: lifecycle(s.ToZones(), now, warn), Purpose: s.Purpose,
			Verified: s.VerifiedAt, Expires: s.ExpiresAt, UsedBy: used})
	}
	return out
}

func lifecycle(s zones.Sign, now time.Time, warn time.Duration) string {
	switch s.StatusAt(now) {
	case zones.SignExpired:
		return LifecycleExpired
	case zones.SignPending:
		return LifecyclePending
	}
	if !s.ExpiresAt.IsZero() && s.ExpiresAt.Sub(now) <= warn {
		return LifecycleExpiring
	}
	return LifecycleValid
}
