// Package replay is a fake camera: an RTSP server that serves video files
// looped forever and paced in real time, so the pipeline, its tests and
// inspectors can use recorded footage through the exact production ingest
// path (RTSP over TCP or UDP, RTP H.264/H.265).
//
// Each file is served as rtsp://ADDR/<name>, where name is the file's base
// name without its extension. Files are read with pure Go demuxers (MP4/MOV
// via abema/go-mp4, MPEG-TS via mediacommon), so the package needs no cgo.
//
// Like a camera, the stream never restarts its clock: when a file loops, RTP
// timestamps keep increasing, and every keyframe carries its parameter sets
// (VPS/SPS/PPS) so a client can join at any keyframe.
package replay
