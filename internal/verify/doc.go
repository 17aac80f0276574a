// Package verify is the inspectors' proof that the production path never
// lets a private pixel out and never analyses an unsigned area.
//
// Run takes a camera's config and a video. With Config.Video it runs the
// video through the same pipeline as a live camera (pipeline.Camera in
// offline mode: decode, mask, motion gate, detection, tracking, events) and
// checks:
//
//   - every frame leaving the mask stage, pixel by pixel, against the
//     camera's privacy polygons rasterised by internal/privacycheck, which
//     shares no code with the mask stage or the zones package;
//   - every detection: its feet (the bottom centre of its box) must lie in a
//     monitored zone whose signage was valid at the frame's time, and the
//     result may only name zones that were active then;
//   - every event: it must name a monitored zone whose signage was valid at
//     the event's time, with that zone's registered sign.
//
// With Config.Recording it decodes every video track of an existing
// recording and checks each frame for leaks only, with the content test of
// internal/privacycheck (Geometry.Content): fill and codec noise estimated
// from the recording, spatial and temporal structure, an edge-aware test at
// zone borders, hard bounds. Each privacy zone gets its own verdict; what
// could not be checked (a zone too small, frames not decoded, a track not
// read to its end) makes the run INCONCLUSIVE, never PASS.
//
// Report.Write puts report.json and an offline report.html (masked sample
// frames with zone outlines, a leak map on the first leaking frame, a
// per-frame leak chart, an events timeline) in a directory; commands then
// seal it with internal/manifest. Sample frames are copies of masked frames
// whose privacy pixels are filled once more from the independent raster
// after drawing (leaked pixels then marked in a signal colour), so the
// report cannot hold a private pixel even when the mask under test is
// broken.
package verify
