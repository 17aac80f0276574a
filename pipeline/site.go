package pipeline

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// Member is a camera of a site and the fingerprints of the settings it was
// built from: a member whose Key stays is left running untouched; one whose
// Key changes but whose RestartKey stays is reconfigured in place
// (Camera.Reconfigure: privacy and monitored zones, signs, min_score,
// track_score, hold_seconds); any other is replaced. An empty RestartKey is
// Key: every change replaces.
type Member struct {
	Camera     *Camera
	Key        string
	RestartKey string
}

func (m Member) restartKey() string {
	if m.RestartKey == "" {
		return m.Key
	}
	return m.RestartKey
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
	cam        *Camera
	key        string
	restartKey string
	cancel     context.CancelFunc
	done       chan struct{}
}

// NewSite returns a site with no cameras.
func NewSite(log *slog.Logger) *Site {
	return &Site{log: log, run: map[string]*member{}}
}

// Changes says what Apply did, by camera id.
type Changes struct {
	// Started are new cameras.
	Started []string
	// Updated cameras run on, reconfigured in place.
	Updated []string
	// Replaced cameras were stopped and started again.
	Replaced []string
	// Stopped cameras are gone.
	Stopped []string
}

// Apply makes ms the running cameras, under ctx. Replaced cameras have fully
// stopped before their successors start, so two pipelines never read one
// camera at once; updated ones never stop (see Member).
func (s *Site) Apply(ctx context.Context, ms []Member) (ch Changes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]Member{}
	for _, m := range ms {
		want[m.Camera.ID()] = m
	}
	for id, r := range s.run {
		m, ok := want[id]
		switch {
		case ok && m.Key == r.key:
			delete(want, id) // unchanged: keep it running
			continue
		case ok && m.restartKey() == r.restartKey:
			if err := r.cam.Reconfigure(m.Camera); err == nil {
				r.key = m.Key
				delete(want, id)
				ch.Updated = append(ch.Updated, id)
				continue
			}
			// Refused in place: replaced below.
		}
		r.cancel()
		<-r.done
		delete(s.run, id)
		if ok {
			ch.Replaced = append(ch.Replaced, id)
		} else {
			ch.Stopped = append(ch.Stopped, id)
		}
	}
	for _, m := range ms {
		id := m.Camera.ID()
		if _, ok := want[id]; !ok {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		r := &member{cam: m.Camera, key: m.Key, restartKey: m.restartKey(), cancel: cancel, done: make(chan struct{})}
		s.run[id] = r
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(r.done)
			superviseOne(cctx, m.Camera, s.log.With("camera", id))
		}()
		if !slices.Contains(ch.Replaced, id) {
			ch.Started = append(ch.Started, id)
		}
	}
	return ch
}

// Len is the number of cameras running.
func (s *Site) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.run)
}

// Wait blocks until every camera has stopped (cancel the context given to Apply).
func (s *Site) Wait() { s.wg.Wait() }
