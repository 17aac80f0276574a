package pipeline

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// Member is a camera of a site and the fingerprint of the settings it was
// built from: a member whose Key changes is replaced, one whose Key stays is
// left running untouched.
type Member struct {
	Camera *Camera
	Key    string
}

// Site runs the cameras of one installation, each under its own supervisor,
// and applies a new set of cameras (a config reload) by stopping only the
// cameras that changed or went away and starting the new ones.
type Site struct {
	log *slog.Logger
	mu  sync.Mutex
	run map[string]*member
	wg  sync.WaitGroup
}

type member struct {
	key    string
	cancel context.CancelFunc
	done   chan struct{}
}

// NewSite returns a site with no cameras.
func NewSite(log *slog.Logger) *Site {
	return &Site{log: log, run: map[string]*member{}}
}

// Apply makes ms the running cameras, under ctx. It returns the ids started,
// replaced and stopped; replaced cameras have fully stopped before their
// successors start, so two pipelines never read one camera at once.
func (s *Site) Apply(ctx context.Context, ms []Member) (started, replaced, stopped []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]Member{}
	for _, m := range ms {
		want[m.Camera.ID()] = m
	}
	for id, r := range s.run {
		if m, ok := want[id]; ok && m.Key == r.key {
			delete(want, id) // unchanged: keep it running
			continue
		}
		r.cancel()
		<-r.done
		delete(s.run, id)
		if _, ok := want[id]; ok {
			replaced = append(replaced, id)
		} else {
			stopped = append(stopped, id)
		}
	}
	for _, m := range ms {
		id := m.Camera.ID()
		if _, ok := want[id]; !ok {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		r := &member{key: m.Key, cancel: cancel, done: make(chan struct{})}
		s.run[id] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(r.done)
			superviseOne(cctx, m.Camera, s.log.With("camera", id))
		}()
		if !slices.Contains(replaced, id) {
			started = append(started, id)
		}
	}
	return started, replaced, stopped
}

// Len is the number of cameras running.
func (s *Site) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.run)
}

// Wait blocks until every camera has stopped (cancel the context given to Apply).
func (s *Site) Wait() { s.wg.Wait() }
