// Package events holds the typed values the pipeline publishes over MQTT and
// the topics they go to.
//
// Topics, under a configurable prefix:
//
//	{prefix}/available                  "online" / "offline", retained; "offline" is the last will
//	{prefix}/{camera}/events            Event JSON, QoS 1, not retained, spooled to disk
//	{prefix}/{camera}/{zone}/occupancy  the zone's count as plain text, retained
//	{prefix}/{camera}/state             State JSON, retained
//
// Events are facts that subscribers must not miss, so the sink spools them to
// disk and delivers them at least once, in order; subscribers dedupe by ID.
// State and occupancy are "latest value" topics: the broker retains the last
// one and the sink re-publishes the latest value after a reconnect, so there
// is nothing to spool.
//
// Nothing here carries pixels or biometric data: an event says that a person
// (by anonymous track number) entered or left a zone, and why the zone may be
// analysed (its signage and purpose).
package events
