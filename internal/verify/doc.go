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
// With Config.Recording it decodes an existing recording made elsewhere and
// checks each frame for leaks only (a lossy re-encode is judged with a
// tolerance and a border shrink, stated in the report).
//
// Report.Write puts report.json and an offline report.html (masked sample
// frames with zone outlines, an events timeline) in a directory. Sample
// frames are copies of masked frames whose privacy pixels are filled once
// more from the independent raster after drawing, so the report cannot hold
// a private pixel even when the mask under test is broken.
package verify
