// Package edgetest holds the test doubles several packages' tests share,
// so that each is written once: a sink that records what a stage or
// service publishes, and a clip read into access units. (Free ports are
// internal/freeport; real brokers internal/mosquittotest and its
// siblings; a fake camera is internal/replay's server.)
package edgetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
)

// Sink records every message offered to it (it accepts all); it satisfies
// the Offer(events.Message) bool sinks of pipeline, compliance, snapshot
// and app. It is safe for concurrent use.
type Sink struct {
	mu   sync.Mutex
	msgs []events.Message
}

// Offer records m.
func (s *Sink) Offer(m events.Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return true
}

// Messages is a copy of what was offered so far, in order.
func (s *Sink) Messages() []events.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Take is what was offered since the last Take, in order.
func (s *Sink) Take() []events.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.msgs
	s.msgs = nil
	return out
}

// Of is the messages of type T among msgs, in order.
func Of[T events.Message](msgs []events.Message) []T {
	var out []T
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// AccessUnits is every access unit of the video file at path, failing the
// test when it cannot be read.
func AccessUnits(t testing.TB, path string) []media.AccessUnit {
	t.Helper()
	var aus []media.AccessUnit
	if err := mediafile.ReadFile(context.Background(), path, func(au media.AccessUnit) error {
		aus = append(aus, au)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return aus
}
