package events

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
