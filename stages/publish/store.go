package publish

import "github.com/eclipse/paho.mqtt.golang/packets"

// noStore is a paho Store that keeps nothing.
//
// The spool is the durable copy of every event and the delivery loop
// re-publishes whatever was not acknowledged, so paho's own in-memory store
// would only add a second, racing copy: after a reconnect paho's resume()
// sets the DUP flag on a stored packet while the new connection's writer may
// be serialising the same packet (eclipse-paho/paho.mqtt.golang#703, a data
// race the race detector reports). With nothing stored, resume has nothing
// to touch, and an in-flight publish whose connection died is retried by the
// delivery loop instead.
type noStore struct{}

func (noStore) Open()                             {}
func (noStore) Put(string, packets.ControlPacket) {}
func (noStore) Get(string) packets.ControlPacket  { return nil }
func (noStore) All() []string                     { return nil }
func (noStore) Del(string)                        {}
func (noStore) Close()                            {}
func (noStore) Reset()                            {}
