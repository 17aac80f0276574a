// Package fleet builds the fleet view (`edge fleet status`): every box under
// one topic root, from what the boxes leave retained on the broker (heartbeat,
// availability, camera state and compliance), judged at one moment.
//
// A box is down when its latest heartbeat is older than DownAfter heartbeat
// periods, when it has none, or when it said "offline". Availability alone is
// not trusted: a clustered broker does not publish the last will when the node
// under a box dies, so "online" can outlive the box.
package fleet

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/edgeprivacy/edge/events"
)

// DownAfter is how many heartbeat periods may pass without one before a box
// is called down: one late heartbeat is jitter, three are an outage.
const DownAfter = 3

// Sign lifecycle words in compliance payloads and states.
const (
	signExpired  = "expired"
	signExpiring = "expiring"
	signMissing  = "missing"
)

// Report is the fleet at one moment.
type Report struct {
	TS    time.Time `json:"ts"`
	Boxes []Box     `json:"boxes"`
	// Down counts boxes down; NonCompliant cameras out of compliance.
	Down         int `json:"down"`
	NonCompliant int `json:"non_compliant"`
}

// Box is one box's line.
type Box struct {
	Site string `json:"site"`
	Box  string `json:"box"`
	Up   bool   `json:"up"`
	// Why says why a box is down.
	Why string `json:"why,omitempty"`
	// Available is the retained availability ("online", "offline" or "").
	Available string `json:"available"`
	// HeartbeatAgeS is the age of the latest heartbeat in seconds; -1 without one.
	HeartbeatAgeS float64 `json:"heartbeat_age_s"`
	// Heartbeat is the latest heartbeat, when there is one.
	Heartbeat *events.Heartbeat `json:"heartbeat,omitempty"`
	Cameras   []Camera          `json:"cameras"`
}

// Camera is one camera's line.
type Camera struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// SignsExpired and SignsExpiring name signs (zone or camera) by id.
	SignsExpired  []string `json:"signs_expired"`
	SignsExpiring []string `json:"signs_expiring"`
	// OutputsGated names image outputs switched on but gated off.
	OutputsGated []string `json:"outputs_gated"`
	// Drops is the camera's dropped frames since its pipeline started.
	Drops uint64 `json:"drops"`
	// EventsLastHour is from the box's heartbeat.
	EventsLastHour int `json:"events_last_hour"`
	// Compliant is false with an expired or missing sign or a gated output.
	Compliant bool `json:"compliant"`
}

// Healthy says every box is up and every camera compliant: the exit status
// of `edge fleet status`.
func (r *Report) Healthy() bool { return r.Down == 0 && r.NonCompliant == 0 }

// boxData is what was received for one box.
type boxData struct {
	site, box  string
	heartbeat  *events.Heartbeat
	available  string
	states     map[string]events.State
	compliance map[string]compliance
}

// compliance is the wire form of {prefix}/{camera}/compliance: the camera's
// own sign, its image outputs, and its monitored zones' signs.
type compliance struct {
	Sign    *signStatus `json:"sign"`
	Outputs []struct {
		Name   string `json:"name"`
		Active bool   `json:"active"`
		Reason string `json:"reason"`
	} `json:"outputs"`
	Zones []struct {
		ID   string     `json:"id"`
		Sign signStatus `json:"sign"`
	} `json:"zones"`
}

type signStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// build judges what was received at now.
func build(boxes map[string]*boxData, now time.Time) *Report {
	r := &Report{TS: now}
	for _, k := range slices.Sorted(maps.Keys(boxes)) {
		d := boxes[k]
		b := Box{Site: d.site, Box: d.box, Available: d.available, HeartbeatAgeS: -1, Heartbeat: d.heartbeat, Cameras: []Camera{}}
		b.Up, b.Why = judge(d, now, &b.HeartbeatAgeS)
		if !b.Up {
			r.Down++
		}
		for _, c := range cameras(d) {
			if !c.Compliant {
				r.NonCompliant++
			}
			b.Cameras = append(b.Cameras, c)
		}
		r.Boxes = append(r.Boxes, b)
	}
	return r
}

func judge(d *boxData, now time.Time, age *float64) (up bool, why string) {
	if d.available == events.Offline {
		return false, "offline (stopped, or its last will)"
	}
	hb := d.heartbeat
	if hb == nil {
		return false, "no heartbeat"
	}
	a := now.Sub(hb.TS)
	*age = a.Seconds()
	period := time.Duration(hb.IntervalS * float64(time.Second))
	if period <= 0 {
		period = 15 * time.Second
	}
	if a > DownAfter*period {
		return false, "heartbeat " + a.Round(time.Second).String() + " old"
	}
	return true, ""
}

func cameras(d *boxData) []Camera {
	ids := map[string]bool{}
	for id := range d.states {
		ids[id] = true
	}
	for id := range d.compliance {
		ids[id] = true
	}
	if d.heartbeat != nil {
		for id := range d.heartbeat.EventsLastHour {
			ids[id] = true
		}
	}
	var out []Camera
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		c := Camera{ID: id, SignsExpired: []string{}, SignsExpiring: []string{}, OutputsGated: []string{}}
		expired, expiring := map[string]bool{}, map[string]bool{}
		note := func(sign, status string) {
			switch status {
			case signExpired, signMissing:
				expired[sign] = true
			case signExpiring:
				expiring[sign] = true
			}
		}
		if st, ok := d.states[id]; ok {
			c.Status, c.Drops = st.Status, st.FramesDropped
			for _, z := range st.Zones {
				if z.Kind == "monitored" {
					note(z.SignageID, z.SignageStatus)
				}
			}
		}
		if cp, ok := d.compliance[id]; ok {
			if cp.Sign != nil {
				note(cp.Sign.ID, cp.Sign.Status)
			}
			for _, z := range cp.Zones {
				note(z.Sign.ID, z.Sign.Status)
			}
			for _, o := range cp.Outputs {
				if !o.Active {
					c.OutputsGated = append(c.OutputsGated, o.Name)
				}
			}
		}
		if c.Status == events.StatusStopped {
			continue // removed from the config: nothing to judge
		}
		if d.heartbeat != nil {
			c.EventsLastHour = d.heartbeat.EventsLastHour[id]
		}
		c.SignsExpired = slices.Sorted(maps.Keys(expired))
		for s := range expiring {
			if !expired[s] {
				c.SignsExpiring = append(c.SignsExpiring, s)
			}
		}
		sort.Strings(c.SignsExpiring)
		c.Compliant = len(c.SignsExpired) == 0 && len(c.OutputsGated) == 0
		out = append(out, c)
	}
	return out
}
