package console

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/edgeprivacy/edge/events"
)

// EventQuery filters events; empty fields match everything.
type EventQuery struct {
	Camera, Zone, Type string
	// Since and Until bound the event time (Until exclusive); zero for open.
	Since, Until time.Time
	// Limit is the most events returned, newest first.
	Limit int
}

// MaxEvents is the most events one request returns.
const MaxEvents = 1000

func parseQuery(v url.Values) (EventQuery, error) {
	q := EventQuery{Camera: v.Get("camera"), Zone: v.Get("zone"), Type: v.Get("type"), Limit: 100}
	if q.Type != "" && q.Type != events.TypeEnter && q.Type != events.TypeExit {
		return q, fmt.Errorf("type %q: use enter or exit", q.Type)
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(f.key); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, fmt.Errorf("%s %q: write an RFC 3339 time such as 2026-01-02T15:04:05Z", f.key, s)
			}
			*f.dst = t
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxEvents {
			return q, fmt.Errorf("limit %q: use 1 to %d", s, MaxEvents)
		}
		q.Limit = n
	}
	return q, nil
}

func (q EventQuery) match(e events.Event) bool {
	return (q.Camera == "" || e.Camera == q.Camera) && (q.Zone == "" || e.Zone == q.Zone) &&
		(q.Type == "" || e.Type == q.Type) &&
		(q.Since.IsZero() || !e.TS.Before(q.Since)) && (q.Until.IsZero() || e.TS.Before(q.Until))
}
