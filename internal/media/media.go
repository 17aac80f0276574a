// Package media holds the coded-video types every layer passes around: the
// codec of a stream and one coded picture (access unit). It imports nothing
// of this module and no RTSP library, so the RTSP client, the file readers,
// the decoder, the encoder and the muxers can all share it without importing
// one another. Its one import, internal/maskepoch, is a leaf too.
package media

import (
	"time"

	"github.com/edgeprivacy/edge/internal/maskepoch"
)

// Codec names the video compression of a stream.
type Codec int

// The codecs the pipeline can decode and the encoder produces.
const (
	H264 Codec = iota + 1
	H265
)

// String returns the codec's common name, as operators see it in probe
// output and state.
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

// AccessUnit is one coded picture. From a camera or a file, keyframes carry
// their parameter sets (VPS/SPS/PPS) first, so a decoder can start at any
// keyframe; the encoder's keyframes start with SPS and PPS too.
// Consumers must not change a unit: one may be shared by several of them.
type AccessUnit struct {
	Codec Codec
	// NALUs are the picture's NAL units without start codes.
	NALUs [][]byte
	// AnnexB is the same picture with start codes, when the producer has it
	// (the encoder); nil otherwise.
	AnnexB []byte
	// PTS is the presentation time: from the RTP clock or the file for
	// camera units, increasing across the encoder's life for encoded ones.
	PTS      time.Duration
	Keyframe bool
	// Received is the wall-clock arrival of a camera unit, for latency and
	// fps figures; zero for files and encoded units.
	Received time.Time
	// Width and Height are the picture size when the producer knows it (the
	// encoder); zero otherwise.
	Width, Height int
	// Mask is the privacy-zone epoch of the masked picture an encoded unit
	// was made from (the zero Stamp for camera and file units): the
	// restream and the recorder hold it while they write the unit and drop
	// a unit whose zones a reload has replaced.
	Mask maskepoch.Stamp
}
