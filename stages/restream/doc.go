// Package restream serves cameras' masked, encoded streams over RTSP, so
// that live viewers, NVRs and recorders get the picture with its privacy
// zones already painted over.
//
// A Path is one consumer of a camera's encoder stage (stages/encode), beside
// the recorder: it reads access units from its own queue in the encoder's
// Fanout and never slows the encoder, the recorder or ingest. The server's
// lifecycle and credential check are internal/rtspserver's.
//
// A change of the camera's privacy zones disconnects the path's viewers
// inside the reload (Path registers with the camera's mask epoch), so that
// no RTP packet masked with the old zones, queued to a slow viewer, is sent
// after it; viewers reconnect to the stream of the new zones.
package restream
