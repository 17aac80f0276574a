// Package ingest is the source stage of a camera pipeline: it pulls a
// camera's RTSP stream with gortsplib and turns its RTP packets into H.264 or
// H.265 access units.
//
// Ingest never blocks on a slow consumer. Access units go through a bounded
// buffer; when it is full the unit is dropped and counted, and every
// following unit is dropped until the next keyframe, because a P frame
// decoded without its reference gives garbage. Keyframes carry the stream's
// parameter sets (VPS/SPS/PPS) so a decoder can start at any of them.
//
// A failed session (refused connection, 401, missing track, silent stream,
// server gone) is retried with exponential backoff and full jitter. Every
// error, log line and state reason has the URL's credentials redacted.
package ingest
