package publish

import (
	"context"
	"sync"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/redact"
)

// beat sets a fresh heartbeat as the latest value of its topic.
func (p *Publisher) beat() {
	hb := events.Heartbeat{
		Site:      p.cfg.Site,
		Box:       p.cfg.Box,
		TS:        time.Now(),
		IntervalS: p.cfg.HeartbeatInterval.Seconds(),
		UptimeS:   time.Since(p.started).Round(time.Millisecond).Seconds(),
		Build:     p.cfg.Build,
		Failovers: p.failovers.Load(),
		Dropped:   p.dropped.Load() + p.spoolFull.Load(),
	}
	if l := p.link.Load(); l != nil {
		hb.Broker = redact.URL(l.broker)
	}
	if sp := p.spool.Load(); sp != nil {
		hb.SpoolDepth = sp.Len()
	}
	hb.Cameras, hb.EventsLastHour = p.cams.snapshot(hb.TS)
	payload, err := hb.Payload()
	if err != nil {
		p.invalid.Add(1)
		p.log.Error("mqtt heartbeat not built", "err", err)
		return
	}
	p.setLatest(hb.Topic(p.cfg.TopicPrefix), payload, true)
}

// heartbeat publishes a heartbeat every HeartbeatInterval (maintain adds one
// on every connect).
func (p *Publisher) heartbeat(ctx context.Context) {
	flow.Every(ctx, p.cfg.HeartbeatInterval, func() {
		p.beat()
		p.signal()
	})
}

// cameraTally follows what the box publishes about its cameras: which are
// running (from their state) and how many events each produced per minute
// over the last hour.
type cameraTally struct {
	mu      sync.Mutex
	running map[string]bool
	minutes map[string]*[60]minuteCount
}

type minuteCount struct {
	minute int64 // Unix minute the count belongs to
	n      int
}

func (c *cameraTally) state(s events.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running == nil {
		c.running = map[string]bool{}
	}
	c.running[s.Camera] = s.Status != events.StatusStopped
}

func (c *cameraTally) event(camera string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.minutes == nil {
		c.minutes = map[string]*[60]minuteCount{}
	}
	ring := c.minutes[camera]
	if ring == nil {
		ring = &[60]minuteCount{}
		c.minutes[camera] = ring
	}
	m := now.Unix() / 60
	slot := &ring[m%60]
	if slot.minute != m {
		*slot = minuteCount{minute: m}
	}
	slot.n++
}

// snapshot returns the running cameras and each camera's events in the hour
// before now.
func (c *cameraTally) snapshot(now time.Time) (running int, lastHour map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.running {
		if r {
			running++
		}
	}
	lastHour = map[string]int{}
	m := now.Unix() / 60
	for cam, ring := range c.minutes {
		n := 0
		for _, s := range ring {
			if m-s.minute < 60 {
				n += s.n
			}
		}
		lastHour[cam] = n
	}
	for cam, r := range c.running {
		if _, ok := lastHour[cam]; !ok && r {
			lastHour[cam] = 0
		}
	}
	return running, lastHour
}
