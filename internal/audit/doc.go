// Package audit keeps edge's tamper-evident audit log: JSON lines, each
// record carrying the SHA-256 of the one before it and its own, so that a
// changed byte, a removed or reordered record breaks the chain at a record
// that can be named. Checkpoints signed with the device key (see
// internal/devicekey) at start, at stop and every few minutes fix the chain
// head, so that rewriting the whole chain needs the key. Files rotate by size
// into audit-000001.jsonl, audit-000002.jsonl, ... and the chain runs on
// across them.
//
// A line is the record's JSON with its own hash appended last:
//
//	{"seq":7,"ts":"...","kind":"config","prev":"<hash of record 6>","data":{...},"hash":"<SHA-256 of everything before ,"hash">"}
//
// What it cannot show: records after the last checkpoint can be cut off
// without trace (Verify reports how many are not covered by a signature),
// and whoever holds the device key can rewrite everything.
package audit
