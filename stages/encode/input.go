package encode

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/stages/mask"
)

// QueueSize is how many masked frames wait for the encoder. Two absorb
// jitter; more would only add latency to a live view.
const QueueSize = 2

// Input is the encoder's queue of masked frames: a pipeline.Output. Offer
// never blocks; a frame the queue has no room for is closed and counted.
type Input struct {
	ch       chan *mask.Frame
	tooSlow  *ratelog.Limiter
	dropped  atomic.Uint64
	mu       sync.Mutex // orders Offer against Close
	isClosed bool
}

// NewInput returns an empty queue; log names the camera.
func NewInput(log *slog.Logger) *Input {
	if log == nil {
		log = slog.Default()
	}
	return &Input{ch: make(chan *mask.Frame, QueueSize), tooSlow: ratelog.New(log, slog.LevelWarn, "encoder is too slow, discarding masked frames")}
}

// Offer queues f, or drops it (closing it) when the queue is full or closed.
// It owns f from here.
func (q *Input) Offer(f *mask.Frame) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.isClosed {
		f.Close()
		return
	}
	select {
	case q.ch <- f:
	default:
		q.dropped.Add(1)
		q.tooSlow.Log()
		f.Close()
	}
}

// Frames is what the Encoder reads.
func (q *Input) Frames() <-chan *mask.Frame { return q.ch }

// Dropped counts frames the encoder was too busy for.
func (q *Input) Dropped() uint64 { return q.dropped.Load() }

// Close refuses further frames and closes the queued ones; call it once the
// encoder has stopped reading. Safe to call more than once.
func (q *Input) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.isClosed = true
	for {
		select {
		case f := <-q.ch:
			f.Close()
		default:
			return
		}
	}
}
