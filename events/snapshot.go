package events

import (
	"bytes"
	"errors"
)

// SnapshotTopic is {prefix}/{camera}/snapshot.
func SnapshotTopic(prefix, camera string) string { return prefix + "/" + camera + "/snapshot" }

// SnapshotRef is what an event's Snapshot field holds:
// {prefix}/{camera}/snapshot#{event id}. The JPEG published on that topic
// carries the same id in a comment segment, so a subscriber can match them.
func SnapshotRef(prefix, camera, eventID string) string {
	return SnapshotTopic(prefix, camera) + "#" + eventID
}

// Snapshot is a masked JPEG of a camera's view, published retained on
// {prefix}/{camera}/snapshot (the broker keeps the latest). It is never
// spooled: after an outage only the newest picture matters.
type Snapshot struct {
	latest // delivery: the broker keeps the latest snapshot
	Camera string
	// EventID is the event the snapshot belongs to; empty for one taken on
	// request.
	EventID string
	// JPEG is the picture, made from a masked frame only.
	JPEG []byte
}

// Topic implements Message.
func (s Snapshot) Topic(prefix string) string { return SnapshotTopic(prefix, s.Camera) }

// Payload implements Message: the JPEG, with "event=<id>" written into a
// comment (COM) segment right after the start marker when EventID is set.
func (s Snapshot) Payload() ([]byte, error) {
	if len(s.JPEG) < 4 || !bytes.HasPrefix(s.JPEG, []byte{0xFF, 0xD8}) {
		return nil, errors.New("snapshot: payload is not a JPEG")
	}
	if s.EventID == "" {
		return s.JPEG, nil
	}
	text := "event=" + s.EventID
	if len(text) > 65533 {
		return nil, errors.New("snapshot: event id too long")
	}
	n := len(text) + 2
	out := make([]byte, 0, len(s.JPEG)+n+2)
	out = append(out, 0xFF, 0xD8, 0xFF, 0xFE, byte(n>>8), byte(n))
	out = append(out, text...)
	return append(out, s.JPEG[2:]...), nil
}
