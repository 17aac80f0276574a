package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
)

// DefaultWait is how long Collect listens for the retained messages.
const DefaultWait = 3 * time.Second

// Options says where and how to look.
type Options struct {
	// Brokers are tried in order until one accepts. At least one.
	Brokers []string
	// Root is the first topic level (mqtt.topic_prefix); "edge" when empty.
	Root               string
	Username, Password string
	// Wait is how long to listen for retained messages; DefaultWait when 0.
	Wait time.Duration
	// Now is the moment boxes are judged at; time.Now when nil.
	Now func() time.Time
}

// Collect subscribes to every box's heartbeat, availability, state and
// compliance under Root, listens for Wait and judges what arrived.
// Subscriptions are QoS 0: the retained messages arrive all the same, and a
// clustered broker that refuses new QoS 1 subscriptions for a while after
// losing a node (NATS) still answers.
func Collect(ctx context.Context, o Options) (*Report, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("fleet: no broker URL (pass --broker URL)")
	}
	if o.Root == "" {
		o.Root = events.DefaultTopicPrefix
	}
	if !events.TopicLevel.MatchString(o.Root) {
		return nil, fmt.Errorf("fleet: topic root %q: use one level of letters, digits, '_' or '-' (mqtt.topic_prefix)", o.Root)
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &collector{root: o.Root, boxes: map[string]*boxData{}}
	client, err := c.connect(ctx, o)
	if err != nil {
		return nil, err
	}
	defer client.Disconnect(100)
	filters := map[string]byte{}
	for _, f := range []string{"/+/+/heartbeat", "/+/+/available", "/+/+/+/state", "/+/+/+/compliance"} {
		filters[o.Root+f] = 0
	}
	tok := client.SubscribeMultiple(filters, c.receive)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("fleet: subscribe under %s/: %w", o.Root, tok.Error())
	}
	t := time.NewTimer(o.Wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return build(c.boxes, o.Now()), nil
}

type collector struct {
	root  string
	mu    sync.Mutex
	boxes map[string]*boxData
}

func (c *collector) connect(ctx context.Context, o Options) (paho.Client, error) {
	var errs []error
	for _, b := range o.Brokers {
		opts := paho.NewClientOptions().AddBroker(b).
			SetClientID(fmt.Sprintf("edge-fleet-status-%d", time.Now().UnixNano())).
			SetUsername(o.Username).SetPassword(o.Password).
			SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
		client := paho.NewClient(opts)
		tok := client.Connect()
		select {
		case <-tok.Done():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err := tok.Error(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", redact.URL(b), err))
			continue
		}
		return client, nil
	}
	return nil, fmt.Errorf("fleet: no broker accepted the connection (check --broker, username and password): %w", errors.Join(errs...))
}

// receive files one retained message under its box. Topics whose levels are
// not valid ids are ignored: they are not from an edge box.
func (c *collector) receive(_ paho.Client, m paho.Message) {
	levels := strings.Split(m.Topic(), "/")
	if len(levels) < 4 || levels[0] != c.root {
		return
	}
	for _, l := range levels[1:] {
		if !events.TopicLevel.MatchString(l) {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := levels[1] + "/" + levels[2]
	d := c.boxes[key]
	if d == nil {
		d = &boxData{site: levels[1], box: levels[2], states: map[string]events.State{}, compliance: map[string]compliance{}}
		c.boxes[key] = d
	}
	payload := m.Payload()
	switch {
	case len(levels) == 4 && levels[3] == "heartbeat":
		var hb events.Heartbeat
		if json.Unmarshal(payload, &hb) == nil {
			d.heartbeat = &hb
		}
	case len(levels) == 4 && levels[3] == "available":
		d.available = string(payload)
	case len(levels) == 5 && levels[4] == "state":
		var st events.State
		if json.Unmarshal(payload, &st) == nil {
			d.states[levels[3]] = st
		}
	case len(levels) == 5 && levels[4] == "compliance":
		var cp compliance
		if json.Unmarshal(payload, &cp) == nil {
			d.compliance[levels[3]] = cp
		}
	}
}
