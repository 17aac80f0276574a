package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/stages/publish"
)

// BenchOptions configures a fleet simulation.
type BenchOptions struct {
	// Brokers are the broker nodes every box is given (each box in its own
	// order, as in production).
	Brokers []string
	// Root and Site are the first two topic levels; boxes are box-0001...
	Root, Site string
	// Boxes is how many boxes run; Events how many events each produces.
	Boxes, Events int
	// Rate is events per second per box; 0 means as fast as Offer takes them.
	Rate float64
	// SpoolDir holds one spool per box.
	SpoolDir string
	// Timeout bounds the wait for every event to arrive.
	Timeout time.Duration
	// Hold keeps the boxes running (heartbeats on) after delivery, so that
	// `edge fleet status` can be run against them.
	Hold time.Duration
	// Logger receives the boxes' logs; discarded when nil.
	Logger *slog.Logger
}

// BenchResult is what a simulation measured.
type BenchResult struct {
	Boxes, Produced int
	// Delivered counts distinct event ids the subscriber received;
	// Duplicates the deliveries beyond the first (at least once).
	Delivered, Duplicates int
	Elapsed               time.Duration
	EventsPerSecond       float64
	// Failovers and Dropped are summed over the boxes.
	Failovers, Dropped uint64
	// Status is the fleet view taken while the boxes ran.
	Status *Report
}

// Bench runs Boxes lightweight boxes: the real publisher and spool of edge
// run, synthetic events, no video. A QoS 1 subscriber made before the boxes
// start counts every event id; the result says whether all arrived and how
// fast.
func Bench(ctx context.Context, o BenchOptions) (*BenchResult, error) {
	if o.Boxes <= 0 || o.Events < 0 || len(o.Brokers) == 0 || o.SpoolDir == "" {
		return nil, errors.New("fleet bench: want --boxes > 0, --events >= 0, a broker and a spool directory")
	}
	if o.Root == "" {
		o.Root = "edge"
	}
	if o.Site == "" {
		o.Site = "bench"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sub, err := newCounter(o.Brokers[0], o.Root+"/"+o.Site+"/+/+/events")
	if err != nil {
		return nil, err
	}
	defer sub.client.Disconnect(100)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	pubs := make([]*publish.Publisher, o.Boxes)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for i := range pubs {
		box := fmt.Sprintf("box-%04d", i+1)
		p, err := publish.New(publish.Config{
			Brokers: o.Brokers, ClientID: "edge-" + o.Site + "-" + box, QoS: 1,
			TopicPrefix: events.Prefix(o.Root, o.Site, box), Site: o.Site, Box: box, Build: "bench",
			SpoolDir: filepath.Join(o.SpoolDir, box), HeartbeatInterval: 5 * time.Second,
			QueueSize: max(1024, o.Events+16), Logger: log.With("box", box),
		})
		if err != nil {
			return nil, err
		}
		pubs[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(runCtx, nil); err != nil {
				log.Error("box stopped", "box", box, "err", err)
			}
		}()
		p.Offer(events.State{Camera: "cam1", Status: events.StatusStreaming, TS: time.Now()})
	}

	start := time.Now()
	var produced atomic.Int64
	var prod sync.WaitGroup
	for _, p := range pubs {
		prod.Add(1)
		go func() {
			defer prod.Done()
			var tick *time.Ticker
			if o.Rate > 0 {
				tick = time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
				defer tick.Stop()
			}
			for range o.Events {
				if tick != nil {
					select {
					case <-runCtx.Done():
						return
					case <-tick.C:
					}
				}
				ev := events.Event{ID: events.NewID(), Type: events.TypeEnter, Site: o.Site, Camera: "cam1", Zone: "z1",
					SignageID: "s1", Purpose: "bench", Label: events.LabelPerson, TS: time.Now()}
				if p.Offer(ev) {
					produced.Add(1)
				}
			}
		}()
	}
	prod.Wait()
	want := int(produced.Load())
	deadline := time.Now().Add(o.Timeout)
	for sub.distinct() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	res := &BenchResult{Boxes: o.Boxes, Produced: want, Elapsed: time.Since(start)}
	res.Delivered, res.Duplicates = sub.counts()
	if res.Elapsed > 0 {
		res.EventsPerSecond = float64(res.Delivered) / res.Elapsed.Seconds()
	}
	for _, p := range pubs {
		s := p.Stats()
		res.Failovers += s.Failovers
		res.Dropped += s.Dropped + s.SpoolFull
	}
	res.Status, err = Collect(ctx, Options{Brokers: o.Brokers, Root: o.Root})
	if err != nil {
		return res, err
	}
	if o.Hold > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(o.Hold):
		}
	}
	if res.Delivered < want {
		return res, fmt.Errorf("fleet bench: %d of %d events never arrived within %v", want-res.Delivered, want, o.Timeout)
	}
	return res, nil
}

// counter is a QoS 1 subscriber that counts distinct event ids.
type counter struct {
	client paho.Client
	mu     sync.Mutex
	seen   map[string]bool
	dups   int
}

func newCounter(broker, filter string) (*counter, error) {
	c := &counter{seen: map[string]bool{}}
	c.client = paho.NewClient(paho.NewClientOptions().AddBroker(broker).
		SetClientID(fmt.Sprintf("edge-bench-counter-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetOrderMatters(false).SetConnectTimeout(10 * time.Second))
	if tok := c.client.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("fleet bench: subscriber connect to %s: %w", broker, tok.Error())
	}
	tok := c.client.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		var ev struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m.Payload(), &ev) != nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.seen[ev.ID] {
			c.dups++
		}
		c.seen[ev.ID] = true
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		c.client.Disconnect(0)
		return nil, fmt.Errorf("fleet bench: subscribe %s: %w", filter, tok.Error())
	}
	return c, nil
}

func (c *counter) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func (c *counter) counts() (distinct, dups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen), c.dups
}
