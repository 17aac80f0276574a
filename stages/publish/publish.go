package publish

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/internal/spool"
)

// offlineTimeout bounds the wait for the broker to take the "offline"
// message on shutdown; disconnectQuiesce is paho's grace for the DISCONNECT.
const (
	offlineTimeout    = 2 * time.Second
	disconnectQuiesce = 250 // ms
	// recheck wakes the delivery loop in case a state change slipped
	// between its checks; deliveries are otherwise driven by wake-ups.
	recheck = time.Second
)

// Stats are the Publisher's counters since New.
type Stats struct {
	// Published counts events the broker acknowledged.
	Published uint64
	// Retained counts state, occupancy and availability publishes.
	Retained uint64
	// Spooled counts events written to the spool.
	Spooled uint64
	// SpoolDepth is the number of events waiting in the spool.
	SpoolDepth int
	// Dropped counts messages Offer could not queue (queue full).
	Dropped uint64
	// SpoolFull counts events refused because the spool was full.
	SpoolFull uint64
	// Invalid counts messages whose payload could not be built.
	Invalid uint64
	// Failures counts publishes that failed or timed out and were retried.
	Failures uint64
	// Connected says the connection to the broker is up.
	Connected bool
	// Broker is the node connected to last (user information removed).
	Broker string
	// Connects counts connections made; Failovers those made to another
	// node than the previous connection; ConnectFailures failed attempts.
	Connects, Failovers, ConnectFailures uint64
	// TLSReloads counts TLS file changes taken into use.
	TLSReloads uint64
}

// Publisher is the MQTT sink stage. Create it with New and run it with Run.
type Publisher struct {
	cfg     Config
	tls     *tlsFiles // loaded by New so that Run cannot fail on them
	order   []string  // this box's order of the broker nodes
	log     *slog.Logger
	queue   chan events.Message
	wake    chan struct{}
	redial  chan struct{} // the TLS files changed: reconnect with them
	started time.Time
	cams    cameraTally

	running atomic.Bool
	// losses counts lost connections, so that a publish waiting for its
	// acknowledgement learns that it never will (see noStore).
	losses atomic.Uint64
	link   atomic.Pointer[link]
	spool  atomic.Pointer[spool.Spool]

	published, retained, spooled, dropped, spoolFull, invalid, failures atomic.Uint64
	connects, failovers, connectFailures, tlsReloads                    atomic.Uint64

	latestMu sync.Mutex
	latest   map[string]*latestValue

	dropLog, fullLog rateLimit
}

// latestValue is the newest payload of a retained topic.
type latestValue struct {
	payload  []byte
	retained bool
	dirty    bool // not yet published on the current connection
}

// New validates cfg and loads its TLS files. It does not connect: Run does.
func New(cfg Config) (*Publisher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tc, err := newTLSFiles(cfg.TLS)
	if err != nil {
		return nil, err
	}
	// Find an unusable spool now, before cameras start producing events
	// that would have nowhere to go; Run opens it for real.
	sp, err := spool.Open(cfg.SpoolDir, cfg.SpoolMaxBytes, spool.WithLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := sp.Close(); err != nil {
		return nil, fmt.Errorf("publish: spool %s: %w", cfg.SpoolDir, err)
	}
	p := &Publisher{
		cfg:     cfg,
		tls:     tc,
		order:   brokerOrder(cfg.Brokers, cfg.ClientID),
		log:     cfg.Logger.With("component", "mqtt", "client_id", cfg.ClientID),
		queue:   make(chan events.Message, cfg.QueueSize),
		wake:    make(chan struct{}, 1),
		redial:  make(chan struct{}, 1),
		started: time.Now(),
		latest:  map[string]*latestValue{},
	}
	return p, nil
}

// Offer queues m for Run without ever blocking. It returns false, and counts
// a drop, when the queue is full.
func (p *Publisher) Offer(m events.Message) bool {
	select {
	case p.queue <- m:
		return true
	default:
		n := p.dropped.Add(1)
		if p.dropLog.allow() {
			p.log.Warn("mqtt queue full, dropping messages (broker slow or spool disk slow)", "dropped_total", n)
		}
		return false
	}
}

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() Stats {
	s := Stats{
		Published: p.published.Load(),
		Retained:  p.retained.Load(),
		Spooled:   p.spooled.Load(),
		Dropped:   p.dropped.Load(),
		SpoolFull: p.spoolFull.Load(),
		Invalid:   p.invalid.Load(),
		Failures:  p.failures.Load(),

		Connects:        p.connects.Load(),
		Failovers:       p.failovers.Load(),
		ConnectFailures: p.connectFailures.Load(),
		TLSReloads:      p.tlsReloads.Load(),
	}
	if sp := p.spool.Load(); sp != nil {
		s.SpoolDepth = sp.Len()
	}
	if l := p.link.Load(); l != nil {
		s.Connected = l.open()
		s.Broker = redact.URL(l.broker)
	}
	return s
}

// Run connects, publishes what arrives on in or through Offer, and returns
// when ctx is cancelled or in is closed (in may be nil: then only ctx ends
// it). After in is closed it keeps delivering spooled events for up to
// DrainTimeout. On return it has published "offline" (when connected) and
// disconnected; undelivered events stay in the spool for the next Run.
func (p *Publisher) Run(ctx context.Context, in <-chan events.Message) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("publish: Run called twice")
	}
	sp, err := spool.Open(p.cfg.SpoolDir, p.cfg.SpoolMaxBytes, spool.WithLogger(p.log))
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	defer sp.Close()
	p.spool.Store(sp)

	// What was offered before Run is taken in before the first connection,
	// so that the sweep of owned topics sees it as this run's.
	p.drainQueued(sp, nil, true)
	brokers := make([]string, len(p.order))
	for i, b := range p.order {
		brokers[i] = redact.URL(b)
	}
	p.log.Info("mqtt connecting", "brokers", brokers, "topic_prefix", p.cfg.TopicPrefix, "spooled_events", sp.Len())

	sendCtx, stopSend := context.WithCancel(ctx)
	var helpers sync.WaitGroup
	for _, f := range []func(context.Context){p.maintain, p.heartbeat, p.watchTLS, p.deliver, p.watchConnection} {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			f(sendCtx)
		}()
	}

	inputClosed := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case m, ok := <-in:
			if !ok {
				inputClosed = true
				break loop
			}
			p.accept(sp, m)
		case m := <-p.queue:
			p.accept(sp, m)
		}
	}
	// Whatever is already queued goes to the spool (events) or is dropped
	// (latest values: the broker keeps the last one sent).
	p.drainQueued(sp, in, inputClosed)
	if inputClosed && ctx.Err() == nil {
		p.waitDrained(ctx, sp)
	}
	stopSend()
	helpers.Wait()

	l := p.link.Load()
	if l.open() {
		tok := l.client.Publish(events.AvailabilityTopic(p.cfg.TopicPrefix), p.cfg.QoS, true, events.Offline)
		if !tok.WaitTimeout(offlineTimeout) || tok.Error() != nil {
			p.log.Warn("mqtt could not publish offline; the last will may not fire after a clean disconnect", "err", tok.Error())
		}
	}
	if l != nil {
		l.client.Disconnect(disconnectQuiesce)
	}
	p.log.Info("mqtt disconnected", "undelivered_events", sp.Len())
	return nil
}

// accept routes one message: events to the spool, latest values to memory.
func (p *Publisher) accept(sp *spool.Spool, m events.Message) {
	if m == nil {
		return
	}
	payload, err := m.Payload()
	if err != nil {
		p.invalid.Add(1)
		p.log.Error("mqtt message dropped: cannot build payload", "err", err)
		return
	}
	topic := m.Topic(p.cfg.TopicPrefix)
	switch v := m.(type) {
	case events.State:
		p.cams.state(v)
	case events.Event:
		p.cams.event(v.Camera, time.Now())
	}
	if !m.Spooled() {
		p.setLatest(topic, payload, m.Retained())
		p.signal()
		return
	}
	rec, err := encodeRecord(topic, payload)
	if err == nil {
		err = sp.Append(rec)
	}
	switch {
	case errors.Is(err, spool.ErrFull):
		n := p.spoolFull.Add(1)
		if p.fullLog.allow() {
			p.log.Error("mqtt spool full, refusing events until the broker takes the backlog", "refused_total", n, "err", err)
		}
	case err != nil:
		p.spoolFull.Add(1)
		p.log.Error("mqtt event not spooled", "topic", topic, "err", err)
	default:
		p.spooled.Add(1)
		p.signal()
	}
}

// drainQueued moves what is already buffered into the spool, without waiting.
func (p *Publisher) drainQueued(sp *spool.Spool, in <-chan events.Message, inClosed bool) {
	for {
		select {
		case m := <-p.queue:
			p.accept(sp, m)
			continue
		default:
		}
		if inClosed || in == nil {
			return
		}
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			p.accept(sp, m)
		default:
			return
		}
	}
}

// waitDrained waits until the spool and the latest values are delivered,
// ctx is cancelled, or DrainTimeout passes.
func (p *Publisher) waitDrained(ctx context.Context, sp *spool.Spool) {
	deadline := time.NewTimer(p.cfg.DrainTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for sp.Len() > 0 || p.anyDirty() {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			p.log.Warn("mqtt input closed but the broker did not take everything in time; the rest stays spooled", "spooled_events", sp.Len())
			return
		case <-tick.C:
		}
	}
}

// deliver is the only goroutine that publishes: first the latest values
// that changed (or all after a reconnect), then the spool head, one at a
// time, acknowledged in order.
func (p *Publisher) deliver(ctx context.Context) {
	sp := p.spool.Load()
	retry := time.NewTimer(recheck)
	defer retry.Stop()
	for {
		pause := recheck
		if l := p.link.Load(); l.open() {
			client := l.client
			if err := p.flushLatest(ctx, client); err != nil {
				pause = p.failed("retained value", err)
			} else if more, err := p.deliverHead(ctx, client, sp); err != nil {
				pause = p.failed("event", err)
			} else if more {
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		retry.Reset(pause)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry.C:
		}
	}
}

func (p *Publisher) failed(what string, err error) time.Duration {
	if errors.Is(err, context.Canceled) {
		return 0
	}
	p.failures.Add(1)
	p.log.Warn("mqtt publish failed, will retry", "what", what, "err", err)
	return p.cfg.ConnectRetryInterval
}

// deliverHead publishes the spool head and acknowledges it after the broker
// did. more reports that the spool may hold more.
func (p *Publisher) deliverHead(ctx context.Context, client paho.Client, sp *spool.Spool) (more bool, err error) {
	rec, ok, err := sp.Peek()
	if err != nil {
		// The head record is unreadable: skipping it is the only way
		// forward; say so loudly.
		p.invalid.Add(1)
		p.log.Error("mqtt spool head unreadable, skipping one event", "err", err)
		if aerr := sp.Ack(); aerr != nil {
			return false, fmt.Errorf("skip unreadable spool record: %w", aerr)
		}
		return true, nil
	}
	if !ok {
		return false, nil
	}
	topic, payload, err := decodeRecord(rec)
	if err != nil {
		p.invalid.Add(1)
		p.log.Error("mqtt spool record malformed, skipping one event", "err", err)
		return true, sp.Ack()
	}
	if err := p.publish(ctx, client, topic, payload, false); err != nil {
		return false, err
	}
	if err := sp.Ack(); err != nil {
		// Delivered but still at the head: it will be sent again, which
		// subscribers tolerate (they dedupe by id).
		return false, fmt.Errorf("acknowledge delivered event in spool: %w", err)
	}
	p.published.Add(1)
	return true, nil
}

// publish sends one message and waits for its completion (PUBACK at QoS 1),
// the timeout, a lost connection, or ctx. It selects on the token's Done
// channel rather than calling WaitTimeout so that shutdown and connection
// losses do not wait out the timeout.
func (p *Publisher) publish(ctx context.Context, client paho.Client, topic string, payload []byte, retained bool) error {
	losses := p.losses.Load()
	tok := client.Publish(topic, p.cfg.QoS, retained, payload)
	t := time.NewTimer(p.cfg.PublishTimeout)
	defer t.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-tok.Done():
			if err := tok.Error(); err != nil {
				return fmt.Errorf("publish to %s: %w", topic, err)
			}
			return nil
		case <-t.C:
			return fmt.Errorf("publish to %s: no acknowledgement within %v", topic, p.cfg.PublishTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			if p.losses.Load() != losses || !client.IsConnectionOpen() {
				// Without a paho store nothing resends it: send it again
				// once reconnected (a duplicate if the broker had it).
				return fmt.Errorf("publish to %s: connection lost before the acknowledgement", topic)
			}
		}
	}
}

// flushLatest publishes every dirty latest value, availability first.
func (p *Publisher) flushLatest(ctx context.Context, client paho.Client) error {
	avail := events.AvailabilityTopic(p.cfg.TopicPrefix)
	for {
		topic, v, ok := p.nextDirty(avail)
		if !ok {
			return nil
		}
		if err := p.publish(ctx, client, topic, v.payload, v.retained); err != nil {
			p.latestMu.Lock()
			if cur := p.latest[topic]; cur != nil {
				cur.dirty = true
			}
			p.latestMu.Unlock()
			return err
		}
		p.retained.Add(1)
	}
}

// nextDirty takes one dirty value (first preferring topic first) and marks it
// clean; a newer value arriving meanwhile marks it dirty again.
func (p *Publisher) nextDirty(first string) (string, latestValue, bool) {
	p.latestMu.Lock()
	defer p.latestMu.Unlock()
	if v := p.latest[first]; v != nil && v.dirty {
		v.dirty = false
		return first, *v, true
	}
	for topic, v := range p.latest {
		if v.dirty {
			v.dirty = false
			return topic, *v, true
		}
	}
	return "", latestValue{}, false
}

func (p *Publisher) setLatest(topic string, payload []byte, retained bool) {
	p.latestMu.Lock()
	defer p.latestMu.Unlock()
	p.latest[topic] = &latestValue{payload: payload, retained: retained, dirty: true}
}

// subscribeOwned asks for the retained messages under the owned filters;
// sweepStale clears those this run did not set. It does not wait for the
// SUBACK: it runs on paho's connection goroutine.
func (p *Publisher) subscribeOwned(c paho.Client) {
	for _, f := range p.cfg.Owned {
		c.Subscribe(f, 1, p.sweepStale)
	}
}

func (p *Publisher) sweepStale(_ paho.Client, m paho.Message) {
	if !m.Retained() || len(m.Payload()) == 0 {
		return // a live publish (often our own), not a leftover
	}
	p.latestMu.Lock()
	_, ours := p.latest[m.Topic()]
	if !ours {
		p.latest[m.Topic()] = &latestValue{retained: true, dirty: true}
	}
	p.latestMu.Unlock()
	if !ours {
		p.log.Info("mqtt clearing a retained message left by an earlier run", "topic", m.Topic())
		p.signal()
	}
}

func (p *Publisher) markAllDirty() {
	p.latestMu.Lock()
	defer p.latestMu.Unlock()
	for _, v := range p.latest {
		if v.retained {
			v.dirty = true
		}
	}
}

func (p *Publisher) anyDirty() bool {
	p.latestMu.Lock()
	defer p.latestMu.Unlock()
	for _, v := range p.latest {
		if v.dirty {
			return true
		}
	}
	return false
}

// signal wakes the delivery loop without blocking.
func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// encodeRecord stores the topic with the payload so that a spooled event
// goes to the topic it was produced for, even if the prefix changes.
func encodeRecord(topic string, payload []byte) ([]byte, error) {
	if len(topic) > 0xffff {
		return nil, fmt.Errorf("topic of %d bytes is longer than MQTT allows", len(topic))
	}
	b := make([]byte, 2+len(topic)+len(payload))
	binary.BigEndian.PutUint16(b, uint16(len(topic)))
	copy(b[2:], topic)
	copy(b[2+len(topic):], payload)
	return b, nil
}

func decodeRecord(b []byte) (topic string, payload []byte, err error) {
	if len(b) < 2 {
		return "", nil, errors.New("record shorter than its header")
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n || n == 0 {
		return "", nil, errors.New("record topic length out of range")
	}
	return string(b[2 : 2+n]), b[2+n:], nil
}

// rateLimit lets one log line through per second; the hot path only does an
// atomic load when it is suppressed.
type rateLimit struct{ last atomic.Int64 }

func (r *rateLimit) allow() bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(time.Second) && r.last.CompareAndSwap(last, now)
}

// notConnectedWarn is how long the sink may be without a broker before it
// says so; paho's retries are silent, and a wrong broker address or password
// would otherwise only show as a growing spool.
var notConnectedWarn = 10 * time.Second

// watchConnection warns while the client is not connected: first after
// notConnectedWarn, then once a minute, naming what to check.
func (p *Publisher) watchConnection(ctx context.Context) {
	sp := p.spool.Load()
	t := time.NewTicker(notConnectedWarn)
	defer t.Stop()
	var down time.Time
	var warned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if p.link.Load().open() {
				down = time.Time{}
				continue
			}
			if down.IsZero() {
				down = now.Add(-notConnectedWarn)
			}
			if now.Sub(warned) >= time.Minute {
				warned = now
				p.log.Warn("mqtt broker not reachable; events wait in the spool: check mqtt.brokers, the network, username/password and TLS",
					"for", now.Sub(down).Round(time.Second), "spooled_events", sp.Len())
			}
		}
	}
}
