package ingest

import "time"

// Codec names the video compression of a camera's stream.
type Codec int

// Codecs the pipeline can decode.
const (
	H264 Codec = iota + 1
	H265
)

// String returns the codec's common name, as operators see it in probe output and state.
func (c Codec) String() string {
	switch c {
	case H264:
		return "H.264"
	case H265:
		return "H.265"
	default:
		return "unknown"
	}
}

// AccessUnit is one coded picture as it came off the wire.
// On keyframes the parameter sets (VPS/SPS/PPS) are prepended, so a decoder
// can start at any keyframe without having seen earlier packets.
type AccessUnit struct {
	Codec    Codec
	NALUs    [][]byte      // without start codes
	PTS      time.Duration // presentation time from the stream's RTP clock
	Keyframe bool
	Received time.Time // wall-clock arrival, for latency and fps figures
}
