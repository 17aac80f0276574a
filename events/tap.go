package events

// Tap is a sink that shows every message to Observe and then offers it to
// Next, returning Next's answer: for the observers along the way to MQTT
// (the console's event list, the Prometheus counters) that must never hold
// a message back.
type Tap struct {
	Observe func(Message)
	Next    interface{ Offer(Message) bool }
}

// Offer implements the pipeline's sink.
func (t Tap) Offer(m Message) bool {
	t.Observe(m)
	return t.Next.Offer(m)
}
