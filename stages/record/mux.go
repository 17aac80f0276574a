package record

/*
#cgo pkg-config: libavformat libavcodec libavutil
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>

typedef struct {
	AVFormatContext *fmt;
	AVStream *st;
	AVPacket *pkt;
	int header;
} edge_mux;

static void edge_mux_free(edge_mux *m) {
	if (m == NULL) {
		return;
	}
	if (m->fmt != NULL) {
		if (m->header) {
			av_write_trailer(m->fmt);
		}
		avio_closep(&m->fmt->pb);
		avformat_free_context(m->fmt);
	}
	av_packet_free(&m->pkt);
	free(m);
}

// edge_mux_open takes ownership of meta (the file's metadata tags).
static int edge_mux_open(edge_mux **out, const char *path, int w, int h, const uint8_t *extra, int extra_size, AVDictionary *meta) {
	edge_mux *m = calloc(1, sizeof(edge_mux));
	if (m == NULL) {
		return AVERROR(ENOMEM);
	}
	int ret = avformat_alloc_output_context2(&m->fmt, NULL, "mp4", path);
	if (ret < 0) {
		av_dict_free(&meta);
		free(m);
		return ret;
	}
	m->fmt->metadata = meta;
	m->pkt = av_packet_alloc();
	m->st = avformat_new_stream(m->fmt, NULL);
	if (m->pkt == NULL || m->st == NULL) {
		edge_mux_free(m);
		return AVERROR(ENOMEM);
	}
	m->st->time_base = (AVRational){1, 90000};
	AVCodecParameters *par = m->st->codecpar;
	par->codec_type = AVMEDIA_TYPE_VIDEO;
	par->codec_id = AV_CODEC_ID_H264;
	par->width = w;
	par->height = h;
	par->extradata = av_mallocz(extra_size + AV_INPUT_BUFFER_PADDING_SIZE);
	if (par->extradata == NULL) {
		edge_mux_free(m);
		return AVERROR(ENOMEM);
	}
	memcpy(par->extradata, extra, extra_size);
	par->extradata_size = extra_size;
	ret = avio_open(&m->fmt->pb, path, AVIO_FLAG_WRITE);
	if (ret < 0) {
		edge_mux_free(m);
		return ret;
	}
	// Fragmented MP4: the index is written with every keyframe's fragment,
	// so the file stays playable up to the last fragment even if the
	// process dies without writing the trailer.
	AVDictionary *opts = NULL;
	// use_metadata_tags writes our own keys (edge_camera, ...), which the
	// plain MP4 tag table would drop.
	av_dict_set(&opts, "movflags", "+frag_keyframe+empty_moov+default_base_moof+use_metadata_tags", 0);
	ret = avformat_write_header(m->fmt, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		edge_mux_free(m);
		return ret;
	}
	m->header = 1;
	*out = m;
	return 0;
}

static int edge_mux_write(edge_mux *m, uint8_t *data, int size, int64_t pts, int64_t dur, int key) {
	AVPacket *p = m->pkt;
	// Not reference counted: the muxer copies what it keeps.
	p->data = data;
	p->size = size;
	p->stream_index = 0;
	p->pts = av_rescale_q(pts, (AVRational){1, 90000}, m->st->time_base);
	p->dts = p->pts;
	p->duration = av_rescale_q(dur, (AVRational){1, 90000}, m->st->time_base);
	p->flags = key ? AV_PKT_FLAG_KEY : 0;
	int ret = av_write_frame(m->fmt, p);
	p->data = NULL;
	p->size = 0;
	if (ret >= 0 && key) {
		avio_flush(m->fmt->pb);
	}
	return ret;
}

static int edge_mux_close(edge_mux *m) {
	int ret = 0;
	if (m->header) {
		ret = av_write_trailer(m->fmt);
		m->header = 0;
	}
	edge_mux_free(m);
	return ret;
}

static int edge_dict_set(AVDictionary **d, const char *k, const char *v) { return av_dict_set(d, k, v, 0); }
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/edgeprivacy/edge/internal/averror"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// muxer writes one fragmented MP4 file of H.264.
type muxer struct {
	m    *C.edge_mux
	path string
}

// openMuxer creates path for a w x h stream whose SPS and PPS are given in
// Annex-B form, with the metadata tags meta.
func openMuxer(path string, w, h int, paramsAnnexB []byte, meta map[string]string) (*muxer, error) {
	if len(paramsAnnexB) == 0 {
		return nil, errors.New("record: no SPS/PPS to start a file with")
	}
	// Created here, not by libavformat (which would use 0666 less the
	// umask): a recording holds people and is for edge's group only.
	f, err := privfile.Create(path)
	if err != nil {
		return nil, fmt.Errorf("record: create %s: %w", path, err)
	}
	f.Close()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	extra := C.CBytes(paramsAnnexB)
	defer C.free(extra)
	var dict *C.AVDictionary
	for k, v := range meta {
		ck, cv := C.CString(k), C.CString(v)
		ret := C.edge_dict_set(&dict, ck, cv)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if ret < 0 {
			C.av_dict_free(&dict)
			return nil, fmt.Errorf("record: metadata %s: %s", k, averror.Text(int(ret)))
		}
	}
	mx := &muxer{path: path}
	if ret := C.edge_mux_open(&mx.m, cpath, C.int(w), C.int(h), (*C.uint8_t)(extra), C.int(len(paramsAnnexB)), dict); ret < 0 {
		return nil, fmt.Errorf("record: create %s: %s", path, averror.Text(int(ret)))
	}
	return mx, nil
}

// write adds one access unit (Annex-B) at pts from the file's start.
func (mx *muxer) write(annexB []byte, pts, dur time.Duration, key bool) error {
	if mx.m == nil {
		return errors.New("record: file already closed")
	}
	if len(annexB) == 0 {
		return nil
	}
	k := C.int(0)
	if key {
		k = 1
	}
	// Copied into C memory: the muxer must not see Go pointers it could keep.
	data := C.CBytes(annexB)
	defer C.free(data)
	ret := C.edge_mux_write(mx.m, (*C.uint8_t)(data), C.int(len(annexB)), C.int64_t(toTicks(pts)), C.int64_t(toTicks(dur)), k)
	if ret < 0 {
		return fmt.Errorf("record: write %s: %s", mx.path, averror.Text(int(ret)))
	}
	return nil
}

// close writes the trailer and closes the file. Safe to call twice.
func (mx *muxer) close() error {
	if mx.m == nil {
		return nil
	}
	ret := C.edge_mux_close(mx.m)
	mx.m = nil
	if ret < 0 {
		return fmt.Errorf("record: finish %s: %s", mx.path, averror.Text(int(ret)))
	}
	return nil
}

func toTicks(d time.Duration) int64 { return d.Nanoseconds() * 9 / 100000 }
