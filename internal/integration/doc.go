// Package integration holds the end-to-end tests of the first pipeline
// stages with real parts only: RTSP servers (our replay, GStreamer's, and an
// in-test gortsplib server that sends garbage) and our ingest and decode
// stages, over 127.0.0.1, on real video. It has no code of its own.
//
// Run it as
//
//	go test -race -tags matprofile ./internal/integration/
//
// The GStreamer interop test needs the packages scripts/deps.sh installs
// (gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-*); it is
// skipped, saying so, where they are missing.
package integration
