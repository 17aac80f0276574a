package console

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
)

// auditTail is how much of the end of the audit log the console reads: the
// trail view and past events are about recent days, and a long log must not
// make a request slow.
const auditTail = 16 << 20

// auditRecords returns the last n records of the audit log at path (oldest
// first) whose kind passes keep, each as it was written.
func auditRecords(path string, n int, keep func(kind string, rec []byte) bool) ([]json.RawMessage, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		// The chained log's folder: read its newest file.
		files, err := audit.Files(path)
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("audit log %s: no audit files (%w)", path, err)
		}
		path = files[len(files)-1]
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	skipFirst := false
	if fi.Size() > auditTail {
		if _, err := f.Seek(fi.Size()-auditTail, io.SeekStart); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		skipFirst = true // starts mid-record
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	ring := make([]json.RawMessage, 0, n)
	for sc.Scan() {
		if skipFirst {
			skipFirst = false
			continue
		}
		line := sc.Bytes()
		var head struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(line, &head) != nil || !keep(head.Kind, line) {
			continue
		}
		if len(ring) == n {
			copy(ring, ring[1:])
			ring = ring[:n-1]
		}
		ring = append(ring, json.RawMessage(append([]byte(nil), line...)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return ring, nil
}

// auditEvents returns the events in the audit log that match q, newest first.
func auditEvents(path string, q EventQuery) ([]events.Event, error) {
	recs, err := auditRecords(path, q.Limit, func(kind string, line []byte) bool {
		if kind != "event" {
			return false
		}
		ev, ok := auditEvent(line)
		return ok && q.match(ev)
	})
	if err != nil {
		return nil, err
	}
	out := make([]events.Event, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		if ev, ok := auditEvent(recs[i]); ok {
			out = append(out, ev)
		}
	}
	return out, nil
}

// auditEvent reads the event of an "event" record: under "event" in the
// plain log, under "data" (or "data.event") in the chained one.
func auditEvent(line []byte) (events.Event, bool) {
	var r struct {
		Event *events.Event `json:"event"`
		Data  *struct {
			events.Event
			Inner *events.Event `json:"event"`
		} `json:"data"`
	}
	if json.Unmarshal(line, &r) != nil {
		return events.Event{}, false
	}
	switch {
	case r.Event != nil:
		return *r.Event, true
	case r.Data != nil && r.Data.Inner != nil:
		return *r.Data.Inner, true
	case r.Data != nil && r.Data.ID != "":
		return r.Data.Event, true
	}
	return events.Event{}, false
}
