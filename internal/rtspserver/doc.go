// Package rtspserver is the one gortsplib server lifecycle and the one
// credential check shared by every RTSP server of edge: the masked restream
// (stages/restream) and the fake camera of tests and demos (internal/replay).
//
// A Server listens, answers DESCRIBE and SETUP for the streams its Lookup
// finds (404 otherwise), and refuses clients without the configured
// credentials (401). Credentials are checked here, not by gortsplib, whose
// check compares them with != and returns at the first wrong field: ours
// compares SHA-256 digests of equal length with crypto/subtle and always
// compares every field, so the time a refusal takes says nothing about
// which part was wrong or how much of it was right (internal/secret, as the
// console's check).
//
// CloseStream closes a stream and waits, bounded, until the sessions playing
// it have ended, their queued packets discarded: the restream calls it when
// a camera's privacy zones change, so that no packet masked with the old
// zones reaches a viewer after the reload.
package rtspserver
