// Package pipeline wires one camera's stages together and supervises the
// cameras of a site.
//
// The per-camera graph, with each channel's drop policy:
//
//	source ─AU(30)─> decode ─(2)─> mask ─(2)─> tap ─(2)─> motion ─(1)─> limit ─(1)─> detect ─(4)─> analytics ─> sink
//	                                            └─> outputs (restream, recordings, snapshots)
//
// Drop policies:
//   - source -> decode: ingest never blocks; when full it drops and resumes at the next keyframe.
//   - decode -> mask: blocking; the mask stage only paints, it is never the bottleneck.
//   - mask -> tap: the mask stage drops (counted) when the tap is busy, unless Block is set.
//   - tap -> outputs: each output has its own bounded queue and drops (counted) when behind.
//   - tap -> motion: live runs drop (counted) when motion is busy, so analysis never holds back outputs.
//   - motion -> limit -> detect: only the latest frame is kept; older ones are dropped and counted.
//   - detect -> analytics: blocking; tracking is cheap.
//   - analytics -> sink: Offer never blocks; the sink spools events to disk.
//
// Offline runs (verify) block everywhere instead of dropping, so every frame
// is masked and checked and the same frames are analysed on every run.
//
// Only the mask stage can produce *mask.Frame, so nothing after it can be
// handed an unmasked picture.
package pipeline
