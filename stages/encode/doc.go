// Package encode is the encoder stage of a camera's image outputs: masked
// frames in, H.264 access units out, handed to equal consumers (the RTSP
// restream path and the MP4 recorder).
//
//	tap ─Offer─> Input(2) ─> Encoder ─(units)─> Fanout ─(per consumer)─> restream path
//	                                                               └──> recorder
//
// Only *mask.Frame values reach the encoder, so an unmasked picture cannot be
// encoded: the compiler rules it out. Every hop drops rather than waits: the
// Input drops frames the encoder is too busy for, and the Fanout gives each
// consumer its own bounded queue, so a slow disk never stalls the restream,
// nor either of them the camera. A consumer that lost a unit skips to the
// next keyframe (a P-frame without its reference would smear). Drops are
// counted.
//
// The encoded rate follows the camera: the encoder opens once it has seen two
// frames and announces (in the SPS, which players read as the frame rate)
// the rate their timestamps show, not the nominal encode.fps, which is the
// fallback when the timestamps say nothing usable.
package encode
