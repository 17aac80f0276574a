// Package restream serves cameras' masked, encoded streams over RTSP, so
// that live viewers, NVRs and recorders get the picture with its privacy
// zones already painted over.
//
// A Path is one consumer of a camera's encoder stage (stages/encode), beside
// the recorder: it reads access units from its own queue in the encoder's
// Fanout and never slows the encoder, the recorder or ingest. The server's
// lifecycle and credential check are internal/rtspserver's.
package restream
