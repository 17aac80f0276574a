package events

import (
	"encoding/json"
	"fmt"
)

// Message is what the MQTT sink accepts: an Event, a State, an Occupancy, a
// Snapshot or a Discovery (the interface is sealed; no other types satisfy it).
type Message interface {
	// Topic is the full topic under prefix.
	Topic(prefix string) string
	// Payload is the bytes to publish.
	Payload() ([]byte, error)
	// Retained says the broker keeps the latest value for late subscribers;
	// the sink also re-publishes the latest retained value after a reconnect.
	Retained() bool
	// Spooled says the message must survive broker outages and restarts:
	// it is written to disk first and delivered at least once, in order.
	Spooled() bool

	isMessage()
}

// The two delivery policies; every Message embeds one, so each rule is
// written once.

// latest is the policy of a value that replaces the one before it (a state,
// a count, a status, a config): the broker retains it, so a late subscriber
// sees it at once, and the sink does not spool it, since only the latest
// matters.
type latest struct{}

// Retained implements Message: true.
func (latest) Retained() bool { return true }

// Spooled implements Message: false.
func (latest) Spooled() bool { return false }

func (latest) isMessage() {}

// news is the policy of something that happened (an event, an alert): not
// retained, since it is not a state, and spooled to disk until the broker
// has it.
type news struct{}

// Retained implements Message: false.
func (news) Retained() bool { return false }

// Spooled implements Message: true.
func (news) Spooled() bool { return true }

func (news) isMessage() {}

// marshal is the JSON payload of m; what names m in the error.
func marshal(m Message, what string) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", what, err)
	}
	return b, nil
}
