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

// auditTail is how much of the end of the audit log the console reads,
// across its files: the trail view and past events are about recent days,
// and a long log must not make a request slow.
const auditTail = 16 << 20

// auditRecords returns the last n records of the audit log at path (oldest
// first) whose kind passes keep, each as it was written. path is one file,
// or the chained log's folder: its files are read newest first, so records
// before a rotation are found, until n are found or auditTail bytes read.
func auditRecords(path string, n int, keep func(kind string, rec []byte) bool) ([]json.RawMessage, error) {
	files := []string{path}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		files, err = audit.Files(path)
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("audit log %s: no audit files (%w)", path, err)
		}
	}
	var out []json.RawMessage
	budget := int64(auditTail)
	for i := len(files) - 1; i >= 0 && len(out) < n && budget > 0; i-- {
		recs, read, err := tailRecords(files[i], n-len(out), budget, keep)
		if err != nil {
			return nil, err
		}
		budget -= read
		out = append(recs, out...)
	}
	return out, nil
}

// tailRecords returns the last n records passing keep among the last limit
// bytes of the file at path, and how many bytes it read.
func tailRecords(path string, n int, limit int64, keep func(kind string, rec []byte) bool) ([]json.RawMessage, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	read := fi.Size()
	skipFirst := false
	if read > limit {
		if _, err := f.Seek(read-limit, io.SeekStart); err != nil {
			return nil, 0, fmt.Errorf("audit log: %w", err)
		}
		read, skipFirst = limit, true // starts mid-record
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
		return nil, 0, fmt.Errorf("audit log %s: %w", path, err)
	}
	return ring, read, nil
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
