package detect

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/edgeprivacy/edge/stages/mask"
)

// Pool runs the detection of every camera of the box on a fixed number of
// workers, so that N cameras do not each run a detector as if they had the
// box to themselves.
//
// Scheduling is fair and never blocks a camera: each camera (Client) holds
// at most one pending request, and a newer frame replaces it (the replaced
// one is counted as skipped and closed: newest wins). Workers go round the
// cameras in the order they joined, from the one after the camera served
// last, and serve the first with a pending request: a camera that waits is
// served within one round of the others, however fast the others submit
// (round robin; submitting more buys nothing).
// A camera is never served by two workers at once, so its detector is
// never shared. Each camera's detection rate thus adapts to the load: it
// gets its configured fps while the pool keeps up, and a fair share of the
// workers when it does not.
type Pool struct {
	workers int

	mu      sync.Mutex
	clients []*Client // the ring, in joining order
	next    int       // where the next round-robin search starts
	wake    *sync.Cond
	closed  bool
	started bool
	wg      sync.WaitGroup
}

// ErrPoolClosed is returned by Join after Close.
var ErrPoolClosed = errors.New("detect: pool is closed")

// NewPool returns a pool of workers goroutines (at least one; the config's
// detect_pool.workers, which configs defaults); Start runs them. Tests that
// schedule by hand call Serve instead.
func NewPool(workers int) (*Pool, error) {
	if workers < 1 {
		return nil, fmt.Errorf("detect: pool of %d workers; detect_pool.workers must be at least 1 (configs fills in its default)", workers)
	}
	p := &Pool{workers: workers}
	p.wake = sync.NewCond(&p.mu)
	return p, nil
}

// Workers is the number of workers.
func (p *Pool) Workers() int { return p.workers }

// Start runs the workers until Close.
func (p *Pool) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.closed {
		return
	}
	p.started = true
	for range p.workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				c, req, ok := p.take(true)
				if !ok {
					return
				}
				c.serve(req)
			}
		}()
	}
}

// Close stops the workers once the requests they are serving are done, and
// closes the frames of pending ones. Clients must have left or be left
// unused.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	for _, c := range p.clients {
		c.dropPending()
	}
	p.wake.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// Serve serves the request at the head of the queue on the calling
// goroutine and says whether there was one: the scheduler without workers,
// for deterministic tests.
func (p *Pool) Serve() bool {
	c, req, ok := p.take(false)
	if ok {
		c.serve(req)
	}
	return ok
}

// take picks the next camera round the ring with a request that no worker
// is serving, waiting for one if wait is set.
func (p *Pool) take(wait bool) (*Client, request, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.closed {
			return nil, request{}, false
		}
		n := len(p.clients)
		for i := range n {
			k := (p.next + i) % n
			c := p.clients[k]
			if c.pending.f == nil || c.running {
				continue
			}
			p.next = (k + 1) % n
			req := c.pending
			c.pending, c.running = request{}, true
			return c, req, true
		}
		if !wait {
			return nil, request{}, false
		}
		p.wake.Wait()
	}
}

// Join adds a camera. Its requests run job on a worker; job owns the frame
// it is given and must close it.
func (p *Pool) Join(name string, job func(*mask.Frame)) (*Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPoolClosed
	}
	c := &Client{pool: p, name: name, job: job}
	p.clients = append(p.clients, c)
	return c, nil
}

// Client is one camera's place in the pool.
type Client struct {
	pool *Pool
	name string
	job  func(*mask.Frame)

	// guarded by pool.mu
	pending request
	running bool // a worker is in job
	left    bool
	idle    *sync.Cond // signalled when running ends

	requested, served, skipped atomic.Uint64
}

type request struct{ f *mask.Frame }

// PoolStats are one camera's counts in the pool.
type PoolStats struct {
	Requested uint64 // frames submitted
	Served    uint64 // frames detection ran on
	Skipped   uint64 // frames replaced by a newer one before a worker was free, or dropped on leaving
}

// Stats returns the camera's counts.
func (c *Client) Stats() PoolStats {
	return PoolStats{Requested: c.requested.Load(), Served: c.served.Load(), Skipped: c.skipped.Load()}
}

// Name is the camera the client was joined for.
func (c *Client) Name() string { return c.name }

// Submit asks for detection on f and returns at once; the pool owns f from
// here on. A request still pending for this camera is replaced (closed,
// counted skipped). After Leave, f is closed and counted skipped.
func (c *Client) Submit(f *mask.Frame) {
	c.requested.Add(1)
	p := c.pool
	p.mu.Lock()
	if c.left || p.closed {
		p.mu.Unlock()
		c.skipped.Add(1)
		f.Close()
		return
	}
	old := c.pending
	c.pending = request{f: f}
	if !c.running {
		p.wake.Signal()
	}
	p.mu.Unlock()
	if old.f != nil {
		c.skipped.Add(1)
		old.f.Close()
	}
}

// serve runs one request on the calling worker.
func (c *Client) serve(req request) {
	c.served.Add(1)
	c.job(req.f)
	p := c.pool
	p.mu.Lock()
	c.running = false
	if c.pending.f != nil {
		p.wake.Signal() // submitted while running: servable again
	}
	if c.idle != nil {
		c.idle.Broadcast()
	}
	p.mu.Unlock()
}

// dropPending closes the pending frame; pool.mu is held.
func (c *Client) dropPending() {
	if c.pending.f != nil {
		c.skipped.Add(1)
		c.pending.f.Close()
		c.pending = request{}
	}
}

// Leave removes the camera: a pending request is dropped (closed, counted
// skipped) and Leave returns once a worker running its job has finished,
// so the camera may close what job sends to.
func (c *Client) Leave() {
	p := c.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	c.left = true
	for i, q := range p.clients {
		if q == c {
			p.clients = append(p.clients[:i], p.clients[i+1:]...)
			if p.next > i {
				p.next--
			}
			break
		}
	}
	c.dropPending()
	if c.idle == nil {
		c.idle = sync.NewCond(&p.mu)
	}
	for c.running {
		c.idle.Wait()
	}
}
