// Package publish is the MQTT sink stage: it publishes events, camera state
// and zone occupancy (package events) to a broker with paho.
//
// Delivery policy, and why:
//
//   - Events (enter/exit) are facts that subscribers must not miss. Each one
//     is first appended to an on-disk spool (internal/spool) and only then
//     published; one delivery goroutine publishes the spool head and removes
//     it after the broker's PUBACK, strictly in order. A broker outage or a
//     restart of this process therefore delays events but loses none; after
//     a reconnect every event produced meanwhile arrives, in order. Delivery
//     is at least once: subscribers dedupe by event id.
//   - State and occupancy are "latest value" topics, retained by the broker.
//     Only the newest value per topic is kept (in memory) and it is
//     re-published after every reconnect, so nothing is spooled for them.
//   - {prefix}/available is "online" (retained) after every (re)connect and
//     "offline" on a clean shutdown; "offline" is also the last will, which
//     the broker publishes when the connection dies.
//
// The frame path never waits on the network: producers hand messages over
// with Offer, which never blocks and counts what it cannot queue, or through
// the bounded channel given to Run.
//
// Secrets: the broker URL is logged with its user information removed, and
// the password is never logged.
package publish
