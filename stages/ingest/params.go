package ingest

import (
	"bytes"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/edgeprivacy/edge/internal/media"
)

// naluKind is what ingest cares about in a NAL unit header.
type naluKind int

const (
	naluOther naluKind = iota
	naluVPS
	naluSPS
	naluPPS
	naluAUD
)

func kindOfNALU(c media.Codec, nalu []byte) naluKind {
	switch c {
	case media.H264:
		switch h264.NALUType(nalu[0] & 0x1F) {
		case h264.NALUTypeSPS:
			return naluSPS
		case h264.NALUTypePPS:
			return naluPPS
		case h264.NALUTypeAccessUnitDelimiter:
			return naluAUD
		}
	case media.H265:
		switch h265.NALUType((nalu[0] >> 1) & 0b111111) {
		case h265.NALUType_VPS_NUT:
			return naluVPS
		case h265.NALUType_SPS_NUT:
			return naluSPS
		case h265.NALUType_PPS_NUT:
			return naluPPS
		case h265.NALUType_AUD_NUT:
			return naluAUD
		}
	}
	return naluOther
}

// paramSets remembers the latest parameter sets of a stream, from the SDP
// and from in-band NAL units, and the picture size they announce.
type paramSets struct {
	codec         media.Codec
	vps, sps, pps []byte
	width, height int
}

// set stores a parameter set. It reports whether the picture size changed.
func (p *paramSets) set(k naluKind, nalu []byte) (sizeChanged bool) {
	switch k {
	case naluVPS:
		if !bytes.Equal(p.vps, nalu) {
			p.vps = bytes.Clone(nalu)
		}
	case naluPPS:
		if !bytes.Equal(p.pps, nalu) {
			p.pps = bytes.Clone(nalu)
		}
	case naluSPS:
		if bytes.Equal(p.sps, nalu) {
			return false
		}
		p.sps = bytes.Clone(nalu)
		w, h, ok := spsSize(p.codec, nalu)
		if ok && (w != p.width || h != p.height) {
			p.width, p.height = w, h
			return true
		}
	}
	return false
}

func spsSize(c media.Codec, sps []byte) (w, h int, ok bool) {
	switch c {
	case media.H264:
		var s h264.SPS
		if s.Unmarshal(sps) != nil {
			return 0, 0, false
		}
		return s.Width(), s.Height(), true
	case media.H265:
		var s h265.SPS
		if s.Unmarshal(sps) != nil {
			return 0, 0, false
		}
		return s.Width(), s.Height(), true
	}
	return 0, 0, false
}

// assemble turns a decoded RTP access unit into the NAL units ingest emits:
// empty units and delimiters removed, parameter sets learned, and on
// keyframes the known parameter sets put first (replacing in-band copies, so
// a keyframe always starts VPS, SPS, PPS).
func (p *paramSets) assemble(au [][]byte) (nalus [][]byte, keyframe, sizeChanged bool) {
	nalus = make([][]byte, 0, len(au)+3)
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		k := kindOfNALU(p.codec, n)
		if k == naluAUD {
			continue
		}
		if k != naluOther && p.set(k, n) {
			sizeChanged = true
		}
		nalus = append(nalus, n)
	}
	if len(nalus) == 0 {
		return nil, false, sizeChanged
	}
	switch p.codec {
	case media.H264:
		keyframe = h264.IsRandomAccess(nalus)
	case media.H265:
		keyframe = h265.IsRandomAccess(nalus)
	}
	if !keyframe {
		return nalus, false, sizeChanged
	}
	withParams := make([][]byte, 0, len(nalus)+3)
	for _, ps := range [][]byte{p.vps, p.sps, p.pps} {
		if ps != nil {
			withParams = append(withParams, ps)
		}
	}
	for _, n := range nalus {
		if kindOfNALU(p.codec, n) == naluOther {
			withParams = append(withParams, n)
		}
	}
	return withParams, true, sizeChanged
}
