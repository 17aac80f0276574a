package console

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/edgeprivacy/edge/events"
)

// Sink takes messages for MQTT without blocking (pipeline.Sink).
type Sink interface {
	Offer(m events.Message) bool
}

// Events keeps what the console shows live: the most recent events, each
// camera's latest state, and the subscribers of the live stream. It learns
// them as a sink in the application's chain, so it never reaches back into
// the pipeline.
type Events struct {
	size int

	mu     sync.Mutex
	recent []events.Event // oldest first, at most size
	states map[string]events.State
	subs   map[chan streamMsg]struct{}
	closed bool

	// slowDrops counts messages a slow live-stream reader missed.
	slowDrops atomic.Uint64
}

// streamMsg is one server-sent event.
type streamMsg struct {
	kind string // "event" or "state"
	data []byte
}

// streamBuffer is how many messages a live-stream reader may fall behind
// before it misses some (counted), so a stalled browser never holds up the
// pipeline.
const streamBuffer = 64

// NewEvents keeps the last size events (at least 1).
func NewEvents(size int) *Events {
	return &Events{size: max(size, 1), states: map[string]events.State{}, subs: map[chan streamMsg]struct{}{}}
}

// Sink wraps next: events and states are kept and streamed as they pass.
func (e *Events) Sink(next Sink) Sink { return events.Tap{Observe: e.observe, Next: next} }

func (e *Events) observe(m events.Message) {
	switch v := m.(type) {
	case events.Event:
		e.addEvent(v)
	case events.State:
		e.addState(v)
	}
}

func (e *Events) addEvent(ev events.Event) {
	b, err := json.Marshal(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.recent) == e.size {
		copy(e.recent, e.recent[1:])
		e.recent = e.recent[:e.size-1]
	}
	e.recent = append(e.recent, ev)
	if err == nil {
		e.broadcast(streamMsg{"event", b})
	}
}

func (e *Events) addState(st events.State) {
	b, err := json.Marshal(st)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.states[st.Camera] = st
	if err == nil {
		e.broadcast(streamMsg{"state", b})
	}
}

// broadcast never waits: a reader that is behind misses the message.
func (e *Events) broadcast(m streamMsg) {
	for ch := range e.subs {
		select {
		case ch <- m:
		default:
			e.slowDrops.Add(1)
		}
	}
}

// Recent returns the kept events that match q, newest first.
func (e *Events) Recent(q EventQuery) []events.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []events.Event
	for i := len(e.recent) - 1; i >= 0 && len(out) < q.Limit; i-- {
		if q.match(e.recent[i]) {
			out = append(out, e.recent[i])
		}
	}
	return out
}

// State returns the camera's latest state.
func (e *Events) State(camera string) (events.State, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.states[camera]
	return s, ok
}

// subscribe returns a channel of live messages, closed by unsubscribe or
// when the server stops; nil when it has stopped.
func (e *Events) subscribe() chan streamMsg {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	ch := make(chan streamMsg, streamBuffer)
	e.subs[ch] = struct{}{}
	return ch
}

func (e *Events) unsubscribe(ch chan streamMsg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.subs[ch]; ok {
		delete(e.subs, ch)
		close(ch)
	}
}

func (e *Events) closeStreams() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for ch := range e.subs {
		delete(e.subs, ch)
		close(ch)
	}
}
