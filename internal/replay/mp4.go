package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	amp4 "github.com/abema/go-mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/edgeprivacy/edge/internal/media"
)

// maxSamples bounds the sample table so a corrupt header cannot make us
// allocate without limit: 6 hours at 30 fps, far more than a test clip needs
// (the index costs 40 bytes a sample).
const maxSamples = 30 * 60 * 60 * 6

// mp4Sample locates one coded picture in the file.
type mp4Sample struct {
	offset int64
	size   uint32
	dts    int64 // in track timescale units
	cts    int32 // composition offset: pts = dts + cts
	dur    uint32
	sync   bool
}

// mp4Demuxer reads a progressive (non-fragmented) MP4 or MOV file by its
// sample table. mediacommon's pmp4 reader rejects boxes that ffmpeg writes
// (btrt, udta), so the table is read directly with abema/go-mp4.
type mp4Demuxer struct {
	path       string
	timescale  int64
	lengthSize int // bytes of each NALU length prefix
	samples    []mp4Sample
	first      int // index of the first sync sample
}

func openMP4(path string) (*clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()

	d, p, err := readMP4(f)
	if err != nil {
		return nil, unsupported(path, err.Error())
	}
	d.path = path
	// A cut-off download or copy keeps its index (faststart puts moov first)
	// but not the pictures it points to; serving it would stall once a loop.
	if st, err := f.Stat(); err == nil {
		if i, end := d.pastEnd(st.Size()); i >= 0 {
			return nil, unsupported(path, fmt.Sprintf(
				"file is truncated: sample %d of %d ends at byte %d but the file has %d bytes (copy it again, or re-encode what is left)",
				i+1, len(d.samples), end, st.Size()))
		}
	}
	w, h, err := p.size()
	if err != nil {
		return nil, unsupported(path, err.Error())
	}
	c := &clip{
		name: clipName(path), path: path, params: p, width: w, height: h,
		frames: len(d.samples) - d.first, demux: d,
	}
	for _, s := range d.samples[d.first:] {
		c.length += fromTicks(int64(s.dur), d.timescale)
	}
	return c, nil
}

// readMP4 reads the first video track's codec configuration and sample table.
func readMP4(r io.ReadSeeker) (*mp4Demuxer, params, error) {
	var p params
	top, err := amp4.ExtractBoxes(r, nil, []amp4.BoxPath{
		{amp4.BoxTypeMoov(), amp4.BoxTypeTrak()},
		{amp4.BoxTypeMoof()},
	})
	if err != nil {
		return nil, p, fmt.Errorf("not a readable MP4 file: %w", err)
	}
	var traks []*amp4.BoxInfo
	fragmented := false
	for _, bi := range top {
		if bi.Type == amp4.BoxTypeMoof() {
			fragmented = true
		} else {
			traks = append(traks, bi)
		}
	}
	var other string
	for _, trak := range traks {
		d, p, entry, err := readTrak(r, trak)
		if err != nil {
			return nil, p, err
		}
		if d == nil {
			if entry != "" && other == "" {
				other = entry
			}
			continue
		}
		if len(d.samples) == 0 {
			if fragmented {
				return nil, p, errors.New("fragmented MP4 is not supported")
			}
			return nil, p, errors.New("video track has no samples")
		}
		return d, p, nil
	}
	if other != "" {
		return nil, p, fmt.Errorf("video codec %q is not H.264 or H.265", other)
	}
	if len(traks) == 0 {
		return nil, p, errors.New("not a readable MP4 file: no tracks")
	}
	return nil, p, errors.New("no video track")
}

// readTrak returns a demuxer for an H.264/H.265 video track, or nil and the
// sample entry type of any other video track.
func readTrak(r io.ReadSeeker, trak *amp4.BoxInfo) (*mp4Demuxer, params, string, error) {
	var p params
	stbl := amp4.BoxPath{amp4.BoxTypeMdia(), amp4.BoxTypeMinf(), amp4.BoxTypeStbl()}
	sub := func(types ...amp4.BoxType) amp4.BoxPath {
		return append(append(amp4.BoxPath{}, stbl...), types...)
	}
	stsd := sub(amp4.BoxTypeStsd(), amp4.BoxTypeAny())
	boxes, err := amp4.ExtractBoxesWithPayload(r, trak, []amp4.BoxPath{
		{amp4.BoxTypeMdia(), amp4.BoxTypeHdlr()},
		{amp4.BoxTypeMdia(), amp4.BoxTypeMdhd()},
		sub(amp4.BoxTypeStsd(), amp4.BoxTypeAvc1(), amp4.BoxTypeAvcC()),
		sub(amp4.BoxTypeStsd(), amp4.StrToBoxType("avc3"), amp4.BoxTypeAvcC()),
		sub(amp4.BoxTypeStsd(), amp4.BoxTypeHvc1(), amp4.BoxTypeHvcC()),
		sub(amp4.BoxTypeStsd(), amp4.BoxTypeHev1(), amp4.BoxTypeHvcC()),
		sub(amp4.BoxTypeStts()),
		sub(amp4.BoxTypeCtts()),
		sub(amp4.BoxTypeStss()),
		sub(amp4.BoxTypeStsz()),
		sub(amp4.BoxTypeStsc()),
		sub(amp4.BoxTypeStco()),
		sub(amp4.BoxTypeCo64()),
	})
	if err != nil {
		return nil, p, "", fmt.Errorf("read track: %w", err)
	}
	entries, err := amp4.ExtractBoxes(r, trak, []amp4.BoxPath{stsd})
	if err != nil {
		return nil, p, "", fmt.Errorf("read sample description: %w", err)
	}

	d := &mp4Demuxer{lengthSize: 4}
	var (
		video    bool
		stts     *amp4.Stts
		ctts     *amp4.Ctts
		stss     *amp4.Stss
		stsz     *amp4.Stsz
		stsc     *amp4.Stsc
		chunkOff []uint64
	)
	for _, b := range boxes {
		switch box := b.Payload.(type) {
		case *amp4.Hdlr:
			video = string(box.HandlerType[:]) == "vide"
		case *amp4.Mdhd:
			d.timescale = int64(box.Timescale)
		case *amp4.AVCDecoderConfiguration:
			if len(box.SequenceParameterSets) == 0 || len(box.PictureParameterSets) == 0 {
				return nil, p, "", errors.New("H.264 track without SPS/PPS in avcC")
			}
			p = params{codec: media.H264,
				sps: box.SequenceParameterSets[0].NALUnit,
				pps: box.PictureParameterSets[0].NALUnit}
			d.lengthSize = int(box.LengthSizeMinusOne) + 1
		case *amp4.HvcC:
			p = params{codec: media.H265}
			for _, arr := range box.NaluArrays {
				if len(arr.Nalus) == 0 {
					continue
				}
				switch h265.NALUType(arr.NaluType) {
				case h265.NALUType_VPS_NUT:
					p.vps = arr.Nalus[0].NALUnit
				case h265.NALUType_SPS_NUT:
					p.sps = arr.Nalus[0].NALUnit
				case h265.NALUType_PPS_NUT:
					p.pps = arr.Nalus[0].NALUnit
				}
			}
			if p.vps == nil || p.sps == nil || p.pps == nil {
				return nil, p, "", errors.New("H.265 track without VPS/SPS/PPS in hvcC")
			}
			d.lengthSize = int(box.LengthSizeMinusOne) + 1
		case *amp4.Stts:
			stts = box
		case *amp4.Ctts:
			ctts = box
		case *amp4.Stss:
			stss = box
		case *amp4.Stsz:
			stsz = box
		case *amp4.Stsc:
			stsc = box
		case *amp4.Stco:
			for _, o := range box.ChunkOffset {
				chunkOff = append(chunkOff, uint64(o))
			}
		case *amp4.Co64:
			chunkOff = append(chunkOff, box.ChunkOffset...)
		}
	}
	if !video {
		return nil, p, "", nil
	}
	if p.codec == 0 {
		entry := "unknown"
		if len(entries) > 0 {
			entry = entries[0].Type.String()
		}
		return nil, p, entry, nil
	}
	if d.timescale <= 0 {
		return nil, p, "", errors.New("video track without timescale")
	}
	if d.lengthSize != 1 && d.lengthSize != 2 && d.lengthSize != 4 {
		return nil, p, "", fmt.Errorf("invalid NALU length size %d", d.lengthSize)
	}
	if stts == nil || stsz == nil || stsc == nil || chunkOff == nil {
		return nil, p, "", errors.New("video track without sample table")
	}
	if err := d.buildSamples(stts, ctts, stss, stsz, stsc, chunkOff); err != nil {
		return nil, p, "", err
	}
	return d, p, "", nil
}

// buildSamples flattens the ISO BMFF sample table into one entry per sample.
func (d *mp4Demuxer) buildSamples(stts *amp4.Stts, ctts *amp4.Ctts, stss *amp4.Stss,
	stsz *amp4.Stsz, stsc *amp4.Stsc, chunkOff []uint64,
) error {
	n := int(stsz.SampleCount)
	if n > maxSamples {
		return fmt.Errorf("too many samples (%d, at most %d)", n, maxSamples)
	}
	total := uint64(0)
	for _, e := range stts.Entries {
		total += uint64(e.SampleCount)
	}
	if total != uint64(n) {
		return fmt.Errorf("invalid stts: %d samples, stsz has %d", total, n)
	}
	if stsz.SampleSize == 0 && len(stsz.EntrySize) != n {
		return errors.New("invalid stsz")
	}
	d.samples = make([]mp4Sample, n)
	for i := range d.samples {
		d.samples[i].sync = stss == nil
		if stsz.SampleSize != 0 {
			d.samples[i].size = stsz.SampleSize
		} else {
			d.samples[i].size = stsz.EntrySize[i]
		}
	}

	i, dts := 0, int64(0)
	for _, e := range stts.Entries {
		for range e.SampleCount {
			if i >= n {
				return errors.New("invalid stts")
			}
			d.samples[i].dts, d.samples[i].dur = dts, e.SampleDelta
			dts += int64(e.SampleDelta)
			i++
		}
	}
	if i != n {
		return errors.New("invalid stts")
	}

	if ctts != nil {
		i = 0
		for _, e := range ctts.Entries {
			off := int32(e.SampleOffsetV0)
			if ctts.GetVersion() == 1 {
				off = e.SampleOffsetV1
			}
			for range e.SampleCount {
				if i >= n {
					return errors.New("invalid ctts")
				}
				d.samples[i].cts = off
				i++
			}
		}
	}

	if stss != nil {
		for _, num := range stss.SampleNumber {
			if num == 0 || int(num) > n {
				return errors.New("invalid stss")
			}
			d.samples[num-1].sync = true
		}
	}

	// stsc runs give samples per chunk from each first chunk (1-based) on.
	i = 0
	ei, per := 0, uint32(0)
	for ci, off := range chunkOff {
		for ei < len(stsc.Entries) && stsc.Entries[ei].FirstChunk <= uint32(ci+1) {
			per = stsc.Entries[ei].SamplesPerChunk
			ei++
		}
		for range per {
			if i >= n {
				return errors.New("invalid stsc")
			}
			d.samples[i].offset = int64(off)
			off += uint64(d.samples[i].size)
			i++
		}
	}
	if i != n {
		return errors.New("invalid stsc/stco: samples without chunk")
	}

	d.first = -1
	for i, s := range d.samples {
		if s.sync {
			d.first = i
			break
		}
	}
	if d.first < 0 {
		return errors.New("video track has no keyframe")
	}
	return nil
}

// pastEnd returns the index of the first sample that does not fit in a file
// of size bytes and where it ends, or -1.
func (d *mp4Demuxer) pastEnd(size int64) (int, int64) {
	for i, s := range d.samples {
		if end := s.offset + int64(s.size); end > size {
			return i, end
		}
	}
	return -1, 0
}

// pass implements demuxer.
func (d *mp4Demuxer) pass(ctx context.Context, fn func(accessUnit) error) error {
	f, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()

	base := d.samples[d.first].dts
	for i := d.first; i < len(d.samples); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := d.samples[i]
		// A fresh buffer per sample: RTP packets alias the NALUs until sent.
		buf := make([]byte, s.size)
		if _, err := f.ReadAt(buf, s.offset); err != nil {
			return fmt.Errorf("replay: %s: read sample %d: %w", d.path, i, err)
		}
		nalus, err := splitLengthPrefixed(buf, d.lengthSize)
		if err != nil {
			return fmt.Errorf("replay: %s: sample %d: %w", d.path, i, err)
		}
		err = fn(accessUnit{
			dts:   fromTicks(s.dts-base, d.timescale),
			pts:   fromTicks(s.dts+int64(s.cts)-base, d.timescale),
			dur:   fromTicks(int64(s.dur), d.timescale),
			nalus: nalus,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// splitLengthPrefixed splits an MP4 sample into NALUs.
func splitLengthPrefixed(buf []byte, size int) ([][]byte, error) {
	var out [][]byte
	for len(buf) > 0 {
		if len(buf) < size {
			return nil, errors.New("truncated NALU length")
		}
		n := 0
		for _, b := range buf[:size] {
			n = n<<8 | int(b)
		}
		buf = buf[size:]
		if n > len(buf) {
			return nil, fmt.Errorf("NALU length %d exceeds sample (%d bytes left)", n, len(buf))
		}
		if n > 0 {
			out = append(out, buf[:n])
		}
		buf = buf[n:]
	}
	return out, nil
}
