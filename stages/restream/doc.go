// Package restream encodes a camera's masked frames to H.264 and serves them
// over RTSP, so that live viewers, NVRs and recorders get the picture with
// its privacy zones already painted over.
//
// Only *mask.Frame values reach the encoder, so the unmasked stream cannot
// be served from here: the compiler rules it out. The Encoder is an output
// of the camera pipeline (pipeline.Output) with a queue of two frames; when
// encoding falls behind it drops frames and counts them, it never slows
// ingest or analysis. Its access units go to Consumers: a Server path (RTSP)
// and, optionally, a recorder (stages/record).
package restream
