package events

import (
	"encoding/json"
	"time"
)

// Heartbeat says a box is alive. It is published, retained, on
// {prefix}/heartbeat after every connect and then every
// mqtt.heartbeat_seconds. Subscribers judge a box by the age of its latest
// heartbeat as well as by {prefix}/available: a clustered broker does not
// publish the last will when the node under the box dies, so "online" can
// stay retained for a box that is gone.
type Heartbeat struct {
	latest        // delivery: a late subscriber (edge fleet status from cron) learns the age of the latest one at once
	Site   string `json:"site"`
	Box    string `json:"box"`
	// TS is when the heartbeat was made, RFC 3339 with fractional seconds.
	TS time.Time `json:"ts"`
	// IntervalS is the heartbeat period in seconds; a subscriber calls the
	// box down after a few missed periods.
	IntervalS float64 `json:"interval_s"`
	// UptimeS is seconds since the publisher started.
	UptimeS float64 `json:"uptime_s"`
	// Build is the edge version.
	Build string `json:"build"`
	// Cameras counts the cameras publishing state that are not stopped.
	Cameras int `json:"cameras"`
	// Broker is the broker URL (without user information) the box is
	// connected to.
	Broker string `json:"broker"`
	// Failovers counts connections made to a different broker than the
	// previous one.
	Failovers uint64 `json:"failovers"`
	// SpoolDepth is the number of events waiting to be delivered.
	SpoolDepth int `json:"spool_depth"`
	// Dropped counts messages the box could not queue or spool.
	Dropped uint64 `json:"dropped"`
	// EventsLastHour counts events produced per camera in the last hour.
	EventsLastHour map[string]int `json:"events_last_hour"`
}

// MarshalJSON writes TS in UTC with fractional seconds and an empty
// EventsLastHour as {}.
func (h Heartbeat) MarshalJSON() ([]byte, error) {
	type plain Heartbeat
	p := plain(h)
	if p.EventsLastHour == nil {
		p.EventsLastHour = map[string]int{}
	}
	return json.Marshal(struct {
		plain
		TS string `json:"ts"`
	}{p, h.TS.UTC().Format(time.RFC3339Nano)})
}

// Topic implements Message.
func (Heartbeat) Topic(prefix string) string { return HeartbeatTopic(prefix) }

// Payload implements Message: the heartbeat as JSON.
func (h Heartbeat) Payload() ([]byte, error) {
	return marshal(h, "heartbeat of box "+h.Box)
}
