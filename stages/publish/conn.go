package publish

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
)

// link is one connection to one broker node. A lost connection is never
// revived: the next attempt makes a new link, possibly to another node.
type link struct {
	client paho.Client
	broker string        // the URL, as configured
	lost   chan struct{} // closed when paho reports the connection lost
}

func (l *link) open() bool { return l != nil && l.client.IsConnectionOpen() }

// brokerOrder is this box's order of the broker nodes: shuffled with a seed
// taken from the client id, so that every box keeps its order across restarts
// while a fleet with one list spreads evenly over the nodes (paho alone
// would send every box to the first URL).
func brokerOrder(brokers []string, clientID string) []string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(clientID))
	order := slices.Clone(brokers)
	r := rand.New(rand.NewPCG(h.Sum64(), 0x6564676546)) //nolint:gosec // spreading load, not a secret
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}

// maintain keeps one link up until ctx is done: it dials the nodes in the
// box's order and moves to the next node after a failed attempt or a lost
// connection. Between nodes it waits only a short random spread (so that the
// boxes that lost one node do not all land on the next at once); once every
// node failed quickRounds times in a row it waits a capped, jittered,
// exponential back-off and gives each attempt longer (connectTimeout). A
// connection to another node than the last one is a failover, logged and
// counted.
func (p *Publisher) maintain(ctx context.Context) {
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     p.cfg.ConnectRetryInterval,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         p.cfg.MaxReconnectInterval,
	}
	bo.Reset()
	next, failed := 0, 0 // failed: attempts in a row that failed
	var last string
	var lostAt time.Time
	for ctx.Err() == nil {
		broker := p.order[next%len(p.order)]
		l, err := p.dial(ctx, broker, connectTimeout(p.cfg.ConnectTimeout, p.cfg.PublishTimeout, failed/(quickRounds*len(p.order))))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.connectFailures.Add(1)
			failed++
			next++
			pause := spread(p.cfg.ConnectRetryInterval)
			// The first rounds that fail often meet a cluster electing new
			// leaders after a node died (4 to 9 s on nats-server 2.9): go
			// on at once, then back off.
			if failed%len(p.order) == 0 && failed >= quickRounds*len(p.order) {
				pause = bo.NextBackOff()
				p.log.Debug("mqtt every broker node refused, backing off", "broker", redact.URL(broker), "err", err, "pause", pause)
			} else {
				p.log.Debug("mqtt connect failed, trying the next broker node", "broker", redact.URL(broker), "err", err)
			}
			if !sleep(ctx, pause) {
				return
			}
			continue
		}
		bo.Reset()
		failed = 0
		p.link.Store(l)
		p.connects.Add(1)
		attrs := []any{"broker", redact.URL(broker)}
		if !lostAt.IsZero() {
			attrs = append(attrs, "down_for", time.Since(lostAt).Round(time.Millisecond))
		}
		if last != "" && last != broker {
			n := p.failovers.Add(1)
			p.log.Warn("mqtt failover: connected to another broker node", append(attrs, "from", redact.URL(last), "failovers_total", n)...)
		} else {
			p.log.Info("mqtt connected", attrs...)
		}
		last = broker
		p.connected()

		select {
		case <-ctx.Done():
			return // Run says offline and disconnects
		case <-l.lost:
			lostAt = time.Now()
			p.losses.Add(1)
			// A lost connection points at its node: try the next one first.
			next++
		case <-p.redial:
			p.losses.Add(1)
			l.client.Disconnect(disconnectQuiesce)
			p.log.Info("mqtt reconnecting to use the reloaded TLS files", "broker", redact.URL(broker))
			continue // same node, no pause
		}
		if !sleep(ctx, spread(p.cfg.ConnectRetryInterval)) {
			return
		}
	}
}

// connectTimeout is the time-out of one attempt after doubled runs of
// quickRounds failed rounds: short at first, so that an attempt that a node
// holds because it cannot serve yet is given up for the next node
// (nats-server holds a CONNECT for 4 s while its cluster elects a stream
// leader), then doubling up to ceiling, so that a slow link gets through.
func connectTimeout(first, ceiling time.Duration, doubled int) time.Duration {
	d := first
	for range doubled {
		if d >= ceiling {
			break
		}
		d *= 2
	}
	return min(d, ceiling)
}

// quickRounds is how many rounds over the nodes a box makes after a loss
// with the short connect time-out and no back-off: three rounds of 2 s
// attempts on the two survivors of a three-node cluster last about 12 s,
// longer than nats-server 2.9 takes to elect new stream leaders (at most
// about 9 s), so a box is connected about 2 s after the election at worst.
const quickRounds = 3

// spread is a random pause in [0, d/4): enough to spread a fleet's
// reconnections over time, short enough to fail over in well under a second.
func spread(d time.Duration) time.Duration {
	if d < 4 {
		return 0
	}
	return rand.N(d / 4) //nolint:gosec // spreading load, not a secret
}

// dial makes one connection attempt to broker.
func (p *Publisher) dial(ctx context.Context, broker string, timeout time.Duration) (*link, error) {
	l := &link{broker: broker, lost: make(chan struct{})}
	var once sync.Once
	o := paho.NewClientOptions().
		AddBroker(broker).
		SetClientID(p.cfg.ClientID).
		SetUsername(p.cfg.Username).
		SetPassword(p.cfg.Password).
		// A persistent session: QoS 1 messages the broker holds for the box
		// survive a reconnect, and the client id is the box's stable name.
		SetCleanSession(false).
		// maintain reconnects, to another node and with jitter.
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(timeout).
		// MQTT 3.1.1 only: paho otherwise tries 3.1 after a failed attempt,
		// which doubles the time a node that holds the CONNECT costs (and
		// nats-server logs an error for every 3.1 attempt).
		SetProtocolVersion(4).
		SetWriteTimeout(p.cfg.PublishTimeout).
		SetKeepAlive(p.cfg.KeepAlive).
		SetPingTimeout(p.cfg.KeepAlive/2).
		SetWill(events.AvailabilityTopic(p.cfg.TopicPrefix), events.Offline, p.cfg.QoS, true).
		SetStore(noStore{}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.log.Warn("mqtt connection lost; events are spooled until it is back", "broker", redact.URL(broker), "err", err)
			once.Do(func() { close(l.lost) })
		})
	if tc := p.tls.current(); tc != nil {
		o.SetTLSConfig(tc)
	}
	l.client = paho.NewClient(o)
	tok := l.client.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		l.client.Disconnect(0)
		return nil, ctx.Err()
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	return l, nil
}

// connected runs after every connect: the availability, a fresh heartbeat
// and every retained value are published again, since a clustered broker
// may have lost them with a node, or published the last will meanwhile.
func (p *Publisher) connected() {
	p.setLatest(events.AvailabilityTopic(p.cfg.TopicPrefix), []byte(events.Online), true)
	p.beat()
	p.markAllDirty()
	p.signal()
	p.subscribeOwned(p.link.Load().client)
}

// sleep waits d or until ctx is done; false means ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
