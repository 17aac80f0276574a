// Package bench is `edge bench`: it serves one clip as N live RTSP cameras
// over loopback (package replay), runs them through the application `edge
// run` runs (package app: ingest, decode, mask, motion, detection, tracking,
// the MQTT publisher, and with Outputs the restream, recorder and
// snapshots), publishes to an embedded broker, and measures per camera and in
// total what was received, decoded and masked, what was dropped and why,
// motion and detection rates, latency from frame arrival to masked frame and
// to event delivered, and the process's CPU and memory; beside them ffmpeg's
// single-thread decode rate of the same clip. FindMax ramps the camera count
// to the largest the box sustains (see Sustained).
package bench
