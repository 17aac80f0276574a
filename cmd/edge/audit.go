package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/pipeline"
)

// auditSink appends every event the pipeline produces to a local JSON-lines
// file before handing it to the MQTT sink: an operator's record of what was
// raised and when, independent of the broker. Events hold no pixels.
type auditSink struct {
	next pipeline.Sink
	log  *slog.Logger
	mu   sync.Mutex
	f    *os.File
	enc  *json.Encoder
}

func openAudit(path string, next pipeline.Sink, log *slog.Logger) (*auditSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("event audit log: %w (check --audit's directory exists and is writable)", err)
	}
	return &auditSink{next: next, log: log, f: f, enc: json.NewEncoder(f)}, nil
}

func (a *auditSink) Offer(m events.Message) bool {
	if e, ok := m.(events.Event); ok {
		a.mu.Lock()
		if err := a.enc.Encode(e); err != nil {
			a.log.Error("event audit log write failed", "err", err)
		}
		a.mu.Unlock()
	}
	return a.next.Offer(m)
}

func (a *auditSink) Close() error { return a.f.Close() }
