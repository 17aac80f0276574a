// Package mediafile reads H.264/H.265 video from container files (MP4,
// MPEG-TS, MKV, AVI, ...) as the same access units that RTSP ingest emits,
// so tools, tests and verification mode run the production decode path.
package mediafile

/*
#cgo pkg-config: libavformat libavcodec libavutil
#include <errno.h>
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>

enum { edge_eagain = AVERROR(EAGAIN) };
enum { edge_eof = AVERROR_EOF };

typedef struct {
	AVFormatContext *fmt;
	AVBSFContext *bsf;
	AVPacket *pkt;
	int stream;
	int eof;
	AVRational tb;
	int64_t start;
} edge_file;

static void edge_file_close(edge_file *f) {
	if (f == NULL) {
		return;
	}
	av_packet_free(&f->pkt);
	av_bsf_free(&f->bsf);
	avformat_close_input(&f->fmt);
	free(f);
}

// edge_file_open opens path and picks its video stream number want, or the
// best one when want is negative. When the stream is not H.264/H.265 it
// still succeeds with *codec_id set, so that the Go side can name the codec
// in its error.
static int edge_file_open(const char *path, int want, edge_file **out, int *codec_id) {
	edge_file *f = calloc(1, sizeof(edge_file));
	if (f == NULL) {
		return AVERROR(ENOMEM);
	}
	int ret = avformat_open_input(&f->fmt, path, NULL, NULL);
	if (ret < 0) {
		free(f);
		return ret;
	}
	ret = avformat_find_stream_info(f->fmt, NULL);
	if (ret < 0) {
		edge_file_close(f);
		return ret;
	}
	if (want >= 0) {
		ret = AVERROR_STREAM_NOT_FOUND;
		if ((unsigned)want < f->fmt->nb_streams && f->fmt->streams[want]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
			ret = want;
		}
	} else {
		ret = av_find_best_stream(f->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	}
	if (ret < 0) {
		edge_file_close(f);
		return ret;
	}
	f->stream = ret;
	AVStream *st = f->fmt->streams[ret];
	*codec_id = st->codecpar->codec_id;
	f->tb = st->time_base;
	f->start = st->start_time;
	*out = f;
	if (st->codecpar->codec_id != AV_CODEC_ID_H264 && st->codecpar->codec_id != AV_CODEC_ID_HEVC) {
		return 0;
	}
	// The *_mp4toannexb filters turn length-prefixed samples into Annex-B
	// and put the parameter sets in front of every keyframe; input that is
	// Annex-B already (MPEG-TS, raw) passes through.
	const AVBitStreamFilter *filter = av_bsf_get_by_name(
		st->codecpar->codec_id == AV_CODEC_ID_H264 ? "h264_mp4toannexb" : "hevc_mp4toannexb");
	if (filter == NULL) {
		return AVERROR_BSF_NOT_FOUND;
	}
	ret = av_bsf_alloc(filter, &f->bsf);
	if (ret < 0) {
		return ret;
	}
	ret = avcodec_parameters_copy(f->bsf->par_in, st->codecpar);
	if (ret < 0) {
		return ret;
	}
	f->bsf->time_base_in = st->time_base;
	ret = av_bsf_init(f->bsf);
	if (ret < 0) {
		return ret;
	}
	f->pkt = av_packet_alloc();
	if (f->pkt == NULL) {
		return AVERROR(ENOMEM);
	}
	return 0;
}

// edge_file_next leaves the next filtered packet of the video stream in
// f->pkt; the caller unrefs it.
static int edge_file_next(edge_file *f) {
	for (;;) {
		int ret = av_bsf_receive_packet(f->bsf, f->pkt);
		if (ret != edge_eagain) {
			return ret;
		}
		if (f->eof) {
			return AVERROR_EOF;
		}
		ret = av_read_frame(f->fmt, f->pkt);
		if (ret == AVERROR_EOF) {
			f->eof = 1;
			ret = av_bsf_send_packet(f->bsf, NULL);
			if (ret < 0) {
				return ret;
			}
			continue;
		}
		if (ret < 0) {
			return ret;
		}
		if (f->pkt->stream_index != f->stream) {
			av_packet_unref(f->pkt);
			continue;
		}
		ret = av_bsf_send_packet(f->bsf, f->pkt);
		if (ret < 0) {
			av_packet_unref(f->pkt);
			return ret;
		}
	}
}

static int64_t edge_file_pts_ns(edge_file *f) {
	int64_t ts = f->pkt->pts;
	if (ts == AV_NOPTS_VALUE) {
		ts = f->pkt->dts;
	}
	if (ts == AV_NOPTS_VALUE) {
		return AV_NOPTS_VALUE;
	}
	if (f->start != AV_NOPTS_VALUE) {
		ts -= f->start;
	}
	return av_rescale_q(ts, f->tb, (AVRational){1, 1000000000});
}

// edge_probe opens path for its stream list and container metadata only.
static int edge_probe(const char *path, AVFormatContext **out) {
	int ret = avformat_open_input(out, path, NULL, NULL);
	if (ret < 0) {
		return ret;
	}
	ret = avformat_find_stream_info(*out, NULL);
	if (ret < 0) {
		avformat_close_input(out);
	}
	return ret;
}

static AVStream *edge_stream(AVFormatContext *f, unsigned i) { return f->streams[i]; }
*/
import "C"

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/averror"
	"github.com/edgeprivacy/edge/internal/media"
)

// ConvertHint is the command that turns any video into a file ReadFile accepts.
const ConvertHint = "ffmpeg -i in.avi -c:v libx264 -preset veryfast -g 20 out.mp4"

// ReadFile demuxes the best video stream of the file at path into access
// units and calls fn with each, in decode order, until the file ends, ctx is
// cancelled or fn returns an error (which ReadFile returns unchanged). fn
// owns the access unit: its NALUs are not reused. PTS counts from the
// stream's start; Received is the time the unit was read.
func ReadFile(ctx context.Context, path string, fn func(media.AccessUnit) error) error {
	return ReadStream(ctx, path, -1, fn)
}

// ReadStream is ReadFile for the video stream with container index stream
// (as Probe lists them); a negative index picks the best video stream.
func ReadStream(ctx context.Context, path string, stream int, fn func(media.AccessUnit) error) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))

	var f *C.edge_file
	var codecID C.int
	ret := C.edge_file_open(cpath, C.int(stream), &f, &codecID)
	defer C.edge_file_close(f)
	if ret < 0 && f == nil {
		return fmt.Errorf("mediafile: open %q: %s (is it a video file? convert it with: %s)", path, averror.Text(int(ret)), ConvertHint)
	}
	codec, ok := avcodec.CodecOf(int(codecID))
	if !ok {
		return fmt.Errorf("mediafile: %q: video is %s, only H.264 and H.265 are supported; convert it with: %s",
			path, C.GoString(C.avcodec_get_name(uint32(codecID))), ConvertHint)
	}
	if ret < 0 {
		return fmt.Errorf("mediafile: %q: set up %v bitstream filter: %s", path, codec, averror.Text(int(ret)))
	}

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ret := C.edge_file_next(f)
		if ret == C.edge_eof {
			return nil
		}
		if ret < 0 {
			return fmt.Errorf("mediafile: %q: read %v video: %s", path, codec, averror.Text(int(ret)))
		}
		// One copy per access unit into Go memory; the NALUs share it.
		data := C.GoBytes(unsafe.Pointer(f.pkt.data), f.pkt.size)
		key := f.pkt.flags&C.AV_PKT_FLAG_KEY != 0
		ptsNS := C.edge_file_pts_ns(f)
		C.av_packet_unref(f.pkt)

		au := media.AccessUnit{
			Codec:    codec,
			NALUs:    splitAnnexB(data),
			Keyframe: key,
			Received: time.Now(),
		}
		if ptsNS != C.AV_NOPTS_VALUE {
			au.PTS = time.Duration(ptsNS)
		}
		if len(au.NALUs) == 0 {
			continue
		}
		if err := fn(au); err != nil {
			return err
		}
	}
}

// FFmpegVersion is the version of the FFmpeg libraries linked in.
func FFmpegVersion() string {
	return fmt.Sprintf("%s (libavformat %d.%d.%d)", C.GoString(C.av_version_info()),
		C.avformat_version()>>16, (C.avformat_version()>>8)&0xff, C.avformat_version()&0xff)
}

// Info is what a container says about itself: its video streams (every
// one, in every program) and its metadata tags.
type Info struct {
	Format string
	Video  []Stream
	// Tags are the container's metadata (creation_time, title, comment, ...).
	Tags map[string]string
}

// Stream is one video stream of a container.
type Stream struct {
	Index         int // container stream index, for ReadStream
	Codec         string
	Width, Height int
	Default       bool // marked as the default track
	Tags          map[string]string
}

// Probe lists the video streams and metadata of the file at path.
func Probe(path string) (Info, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var fc *C.AVFormatContext
	if ret := C.edge_probe(cpath, &fc); ret < 0 {
		return Info{}, fmt.Errorf("mediafile: open %q: %s (is it a video file? convert it with: %s)", path, averror.Text(int(ret)), ConvertHint)
	}
	defer C.avformat_close_input(&fc)
	info := Info{Format: C.GoString(fc.iformat.name), Tags: tags(fc.metadata)}
	for i := C.uint(0); i < fc.nb_streams; i++ {
		st := C.edge_stream(fc, C.uint(i))
		if st.codecpar.codec_type != C.AVMEDIA_TYPE_VIDEO {
			continue
		}
		// Cover art is a "video" stream of one picture, not a track.
		if st.disposition&C.AV_DISPOSITION_ATTACHED_PIC != 0 {
			continue
		}
		info.Video = append(info.Video, Stream{
			Index: int(i), Codec: C.GoString(C.avcodec_get_name(st.codecpar.codec_id)),
			Width: int(st.codecpar.width), Height: int(st.codecpar.height),
			Default: st.disposition&C.AV_DISPOSITION_DEFAULT != 0, Tags: tags(st.metadata),
		})
	}
	return info, nil
}

func tags(d *C.AVDictionary) map[string]string {
	m := map[string]string{}
	var e *C.AVDictionaryEntry
	empty := C.CString("")
	defer C.free(unsafe.Pointer(empty))
	for {
		e = C.av_dict_get(d, empty, e, C.AV_DICT_IGNORE_SUFFIX)
		if e == nil {
			return m
		}
		m[C.GoString(e.key)] = C.GoString(e.value)
	}
}

// splitAnnexB splits an Annex-B byte stream at its 3- and 4-byte start
// codes. The NALUs alias buf. Bytes before the first start code are
// treated as one NALU, so length-prefixed input is not silently lost.
func splitAnnexB(buf []byte) [][]byte {
	var nalus [][]byte
	start := -1 // start of the current NALU
	i := 0
	for i+2 < len(buf) {
		if buf[i] == 0 && buf[i+1] == 0 && buf[i+2] == 1 {
			if start >= 0 || i > 0 {
				end := i
				// A 4-byte start code's leading zero and any trailing
				// zero bytes belong to no NALU.
				for end > max(start, 0) && buf[end-1] == 0 {
					end--
				}
				if s := max(start, 0); end > s {
					nalus = append(nalus, buf[s:end])
				}
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start < 0 {
		start = 0
	}
	if start < len(buf) {
		nalus = append(nalus, buf[start:])
	}
	return nalus
}
