// Package avcodec wraps libavcodec's H.264 and H.265 decoders, the copy of
// their pictures into I420 planes for the decode stage, and swscale's
// conversion to BGR24 for tools.
//
// One Decoder serves one stream on one goroutine. Each call crosses into C
// once, with one contiguous Annex-B buffer per access unit, so the cgo cost
// stays far below the cost of decoding a picture.
package avcodec

/*
#cgo pkg-config: libavcodec libavutil libswscale
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

enum { edge_eagain = AVERROR(EAGAIN) };
enum { edge_eof = AVERROR_EOF };
enum { edge_invaliddata = AVERROR_INVALIDDATA };

// edge_state keeps the first error libavcodec logged during one call, so
// that Go errors can say what went wrong instead of a bare error code.
typedef struct edge_state {
	const AVCodecContext *ctx;
	char first_err[256];
	struct edge_state *next;
} edge_state;

static pthread_mutex_t edge_mu = PTHREAD_MUTEX_INITIALIZER;
static edge_state *edge_states;
static int edge_log_installed;

static void edge_log_cb(void *avcl, int level, const char *fmt, va_list vl) {
	if (avcl != NULL) {
		edge_state *found = NULL;
		pthread_mutex_lock(&edge_mu);
		for (edge_state *s = edge_states; s != NULL; s = s->next) {
			if ((const void *)s->ctx == avcl) {
				found = s;
				break;
			}
		}
		pthread_mutex_unlock(&edge_mu);
		// Our decoders' chatter ("concealing N errors") would flood stderr
		// on a lossy link; their errors reach the caller as Go errors.
		if (found != NULL) {
			if (level <= AV_LOG_ERROR && found->first_err[0] == 0) {
				vsnprintf(found->first_err, sizeof(found->first_err), fmt, vl);
				size_t n = strlen(found->first_err);
				while (n > 0 && (found->first_err[n-1] == '\n' || found->first_err[n-1] == ' ')) {
					found->first_err[--n] = 0;
				}
			}
			return;
		}
	}
	av_log_default_callback(avcl, level, fmt, vl);
}

static void edge_register(edge_state *s) {
	pthread_mutex_lock(&edge_mu);
	if (!edge_log_installed) {
		av_log_set_callback(edge_log_cb);
		edge_log_installed = 1;
	}
	s->next = edge_states;
	edge_states = s;
	pthread_mutex_unlock(&edge_mu);
}

static void edge_unregister(edge_state *s) {
	pthread_mutex_lock(&edge_mu);
	for (edge_state **p = &edge_states; *p != NULL; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&edge_mu);
}

static int edge_open(AVCodecContext **out, edge_state **st, int codec_id, int threads) {
	const AVCodec *codec = avcodec_find_decoder(codec_id);
	if (codec == NULL) {
		return AVERROR_DECODER_NOT_FOUND;
	}
	AVCodecContext *ctx = avcodec_alloc_context3(codec);
	if (ctx == NULL) {
		return AVERROR(ENOMEM);
	}
	// LOW_DELAY makes the decoder hand out a picture as soon as it is
	// complete; it also rules out frame threading, which would hold back
	// threads-1 pictures. Slice threading adds no delay.
	ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
	ctx->thread_count = threads;
	ctx->thread_type = FF_THREAD_SLICE;
	edge_state *s = calloc(1, sizeof(edge_state));
	if (s == NULL) {
		avcodec_free_context(&ctx);
		return AVERROR(ENOMEM);
	}
	s->ctx = ctx;
	edge_register(s);
	int ret = avcodec_open2(ctx, codec, NULL);
	if (ret < 0) {
		edge_unregister(s);
		free(s);
		avcodec_free_context(&ctx);
		return ret;
	}
	*out = ctx;
	*st = s;
	return 0;
}

static void edge_close(AVCodecContext **ctx, edge_state *s) {
	if (s != NULL) {
		edge_unregister(s);
		free(s);
	}
	avcodec_free_context(ctx);
}

static int edge_send(AVCodecContext *ctx, AVPacket *pkt, edge_state *s, uint8_t *data, int size, int64_t pts) {
	s->first_err[0] = 0;
	// pkt->buf stays NULL, so libavcodec copies data before returning:
	// the caller's buffer is not referenced after this call.
	pkt->data = data;
	pkt->size = size;
	pkt->pts = pts;
	pkt->dts = AV_NOPTS_VALUE;
	int ret = avcodec_send_packet(ctx, pkt);
	pkt->data = NULL;
	pkt->size = 0;
	return ret;
}

static int edge_receive(AVCodecContext *ctx, AVFrame *frame, edge_state *s) {
	s->first_err[0] = 0;
	return avcodec_receive_frame(ctx, frame);
}

static int edge_to_bgr(struct SwsContext *sws, const AVFrame *frame, uint8_t *dst, int stride) {
	uint8_t *dst_data[4] = {dst, NULL, NULL, NULL};
	int dst_stride[4] = {stride, 0, 0, 0};
	return sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, dst_data, dst_stride);
}

// edge_copy_i420 copies the visible w x h picture of a YUV420P frame into
// packed planes: ceil(w/2) x ceil(h/2) chroma samples.
static void edge_copy_i420(const AVFrame *f, uint8_t *y, int ys, uint8_t *u, uint8_t *v, int cs) {
	int w = f->width, h = f->height;
	int cw = (w + 1) / 2, ch = (h + 1) / 2;
	for (int r = 0; r < h; r++) {
		memcpy(y + (size_t)r * ys, f->data[0] + (size_t)r * f->linesize[0], w);
	}
	for (int r = 0; r < ch; r++) {
		memcpy(u + (size_t)r * cs, f->data[1] + (size_t)r * f->linesize[1], cw);
		memcpy(v + (size_t)r * cs, f->data[2] + (size_t)r * f->linesize[2], cw);
	}
}

// edge_to_i420 converts a frame of another pixel format into tmp, a
// YUV420P frame of the same size libavutil allocated with its own padding
// (swscale writes past the last pixel on narrow pictures).
static int edge_to_i420(struct SwsContext *sws, const AVFrame *frame, AVFrame *tmp) {
	if (tmp->width != frame->width || tmp->height != frame->height || tmp->format != AV_PIX_FMT_YUV420P) {
		av_frame_unref(tmp);
		tmp->width = frame->width;
		tmp->height = frame->height;
		tmp->format = AV_PIX_FMT_YUV420P;
		int ret = av_frame_get_buffer(tmp, 0);
		if (ret < 0) {
			return ret;
		}
	}
	return sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, frame->height, tmp->data, tmp->linesize);
}

// edge_i420_to_bgr converts packed I420 planes to BGR24 with a context of
// its own, freed before returning: crops come in every size, and a context
// costs microseconds next to a detector call.
static int edge_i420_to_bgr(const uint8_t *y, int ys, const uint8_t *u, const uint8_t *v, int cs, int w, int h, uint8_t *dst, int stride) {
	struct SwsContext *sws = sws_getContext(w, h, AV_PIX_FMT_YUV420P, w, h, AV_PIX_FMT_BGR24, SWS_FAST_BILINEAR, NULL, NULL, NULL);
	if (sws == NULL) {
		return AVERROR(EINVAL);
	}
	const uint8_t *src[4] = {y, u, v, NULL};
	int src_stride[4] = {ys, cs, cs, 0};
	uint8_t *dst_data[4] = {dst, NULL, NULL, NULL};
	int dst_stride[4] = {stride, 0, 0, 0};
	int ret = sws_scale(sws, src, src_stride, 0, h, dst_data, dst_stride);
	sws_freeContext(sws);
	return ret;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/edgeprivacy/edge/internal/averror"
	"github.com/edgeprivacy/edge/internal/media"
)

// Errors callers may want to tell apart with errors.Is.
var (
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("avcodec: decoder is closed")
	// ErrInvalidData means libavcodec rejected the bitstream; skip to the
	// next keyframe.
	ErrInvalidData = errors.New("invalid data")
	// ErrCorrupt means a picture was decoded but libavcodec marked it as
	// damaged (concealed errors, missing references). The picture has been
	// dropped; skip to the next keyframe.
	ErrCorrupt = errors.New("corrupt picture")
	// ErrNoPicture is returned by BGR methods when no picture was received.
	ErrNoPicture = errors.New("avcodec: no decoded picture to convert")
)

// Options tunes a Decoder.
type Options struct {
	// Threads is libavcodec's slice-thread count. It defaults to 1: every
	// camera already has its own goroutine and the target box has 2 cores,
	// so more threads per stream only add contention. Frame threading is
	// never used because it delays output by Threads-1 pictures.
	Threads int
}

// Decoder decodes one H.264 or H.265 stream. It is not safe for concurrent
// use.
type Decoder struct {
	codec media.Codec
	ctx   *C.AVCodecContext
	st    *C.edge_state
	pkt   *C.AVPacket
	frame *C.AVFrame
	have  bool // frame holds a picture from the last Receive

	sws    *C.struct_SwsContext
	swsW   C.int
	swsH   C.int
	swsFmt C.int

	yuvSws *C.struct_SwsContext // other pixel formats to YUV420P
	yuvW   C.int
	yuvH   C.int
	yuvFmt C.int
	yuvTmp *C.AVFrame
}

// codecIDs is libavcodec's id for each codec edge decodes: the one table for
// opening a decoder here and for naming a file's video in mediafile.
var codecIDs = map[media.Codec]C.int{
	media.H264: C.AV_CODEC_ID_H264,
	media.H265: C.AV_CODEC_ID_HEVC,
}

// CodecOf returns the codec that libavcodec's codec id stands for, and false
// for a codec edge does not decode.
func CodecOf(id int) (media.Codec, bool) {
	for c, cid := range codecIDs {
		if int(cid) == id {
			return c, true
		}
	}
	return 0, false
}

// NewDecoder opens a decoder for codec.
func NewDecoder(codec media.Codec, opts Options) (*Decoder, error) {
	id, ok := codecIDs[codec]
	if !ok {
		return nil, fmt.Errorf("avcodec: unsupported codec %v: only H.264 and H.265 can be decoded", codec)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = 1
	}
	d := &Decoder{codec: codec}
	if ret := C.edge_open(&d.ctx, &d.st, id, C.int(threads)); ret < 0 {
		return nil, fmt.Errorf("avcodec: open %v decoder: %s (is libavcodec built with it?)", codec, averror.Text(int(ret)))
	}
	d.pkt = C.av_packet_alloc()
	d.frame = C.av_frame_alloc()
	if d.pkt == nil || d.frame == nil {
		d.Close()
		return nil, fmt.Errorf("avcodec: open %v decoder: out of memory", codec)
	}
	return d, nil
}

// Codec returns the codec the decoder was opened for.
func (d *Decoder) Codec() media.Codec { return d.codec }

// Send feeds one access unit in Annex-B form (start codes before every NAL
// unit). pts is carried through to the picture it produces, see PTS. The
// buffer is copied; the caller may reuse it when Send returns. Call Receive
// until it reports no picture before the next Send.
func (d *Decoder) Send(annexB []byte, pts int64) error {
	if d.ctx == nil {
		return ErrClosed
	}
	if len(annexB) == 0 {
		return nil // an empty packet would mean "drain"; see Flush
	}
	ret := C.edge_send(d.ctx, d.pkt, d.st, (*C.uint8_t)(unsafe.Pointer(&annexB[0])), C.int(len(annexB)), C.int64_t(pts))
	if ret < 0 {
		return d.err("send access unit", ret)
	}
	return nil
}

// Flush tells the decoder the stream has ended, so that Receive returns the
// pictures it still holds. Call Reset before sending more data.
func (d *Decoder) Flush() error {
	if d.ctx == nil {
		return ErrClosed
	}
	ret := C.edge_send(d.ctx, d.pkt, d.st, nil, 0, 0)
	if ret < 0 && ret != C.edge_eof {
		return d.err("flush", ret)
	}
	return nil
}

// Reset drops every buffered picture and reference, e.g. after an error, so
// decoding can restart cleanly at the next keyframe.
func (d *Decoder) Reset() {
	if d.ctx == nil {
		return
	}
	C.avcodec_flush_buffers(d.ctx)
	C.av_frame_unref(d.frame)
	d.have = false
}

// Receive fetches the next decoded picture. ok is false when the decoder
// needs more input (or, after Flush, has nothing left). A picture that
// libavcodec flags as damaged is dropped and reported as ErrCorrupt.
func (d *Decoder) Receive() (ok bool, err error) {
	if d.ctx == nil {
		return false, ErrClosed
	}
	d.have = false
	ret := C.edge_receive(d.ctx, d.frame, d.st)
	switch {
	case ret == C.edge_eagain || ret == C.edge_eof:
		return false, nil
	case ret < 0:
		return false, d.err("decode", ret)
	}
	if d.frame.flags&C.AV_FRAME_FLAG_CORRUPT != 0 || d.frame.decode_error_flags != 0 {
		C.av_frame_unref(d.frame)
		return false, fmt.Errorf("avcodec: %v: decode: %w%s", d.codec, ErrCorrupt, d.lastLog())
	}
	d.have = true
	return true, nil
}

// Width returns the width of the last received picture.
func (d *Decoder) Width() int {
	if !d.have {
		return 0
	}
	return int(d.frame.width)
}

// Height returns the height of the last received picture.
func (d *Decoder) Height() int {
	if !d.have {
		return 0
	}
	return int(d.frame.height)
}

// PTS returns the pts passed to Send for the access unit that produced the
// last received picture (pictures may come out in another order than sent).
func (d *Decoder) PTS() int64 {
	if !d.have {
		return 0
	}
	if d.frame.pts != C.AV_NOPTS_VALUE {
		return int64(d.frame.pts)
	}
	return int64(d.frame.best_effort_timestamp)
}

// BGRSlack is how many bytes past the last pixel ToBGR's buffer must
// hold. swscale's SIMD converters write whole vectors: on narrow pictures
// they run past the end of the last row (42 bytes at 2x2, measured), which
// without room to spare corrupts the heap.
const BGRSlack = 1024

// BGRSize returns the buffer size ToBGR needs with a tight stride: the
// picture and BGRSlack.
func (d *Decoder) BGRSize() int { return d.Width()*d.Height()*3 + BGRSlack }

// ToBGR converts the last received picture to packed BGR24 straight into
// dst, row by row stride bytes apart (stride >= 3*Width), with at least
// BGRSlack bytes after the last pixel (see BGRSize). dst may be memory
// owned by C, such as a gocv.Mat's data, so no Go copy is made. The
// conversion context is rebuilt whenever size or pixel format change.
func (d *Decoder) ToBGR(dst []byte, stride int) error {
	if d.ctx == nil {
		return ErrClosed
	}
	if !d.have {
		return ErrNoPicture
	}
	w, h := d.frame.width, d.frame.height
	if w <= 0 || h <= 0 {
		return fmt.Errorf("avcodec: picture has no pixels (%dx%d)", w, h)
	}
	if stride < int(w)*3 {
		return fmt.Errorf("avcodec: BGR stride %d is less than 3*width %d", stride, w)
	}
	if need := stride*(int(h)-1) + int(w)*3 + BGRSlack; len(dst) < need {
		return fmt.Errorf("avcodec: BGR buffer holds %d bytes, %dx%d needs %d (the picture and BGRSlack)", len(dst), w, h, need)
	}
	if d.sws == nil || d.swsW != w || d.swsH != h || d.swsFmt != d.frame.format {
		C.sws_freeContext(d.sws)
		// Same size in and out: only chroma is resampled, so the cheapest
		// filter costs nothing visible.
		d.sws = C.sws_getContext(w, h, int32(d.frame.format), w, h, C.AV_PIX_FMT_BGR24,
			C.SWS_FAST_BILINEAR, nil, nil, nil)
		if d.sws == nil {
			return fmt.Errorf("avcodec: no conversion from pixel format %s to BGR24 at %dx%d",
				C.GoString(C.av_get_pix_fmt_name(int32(d.frame.format))), w, h)
		}
		d.swsW, d.swsH, d.swsFmt = w, h, d.frame.format
	}
	if ret := C.edge_to_bgr(d.sws, d.frame, (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(stride)); ret <= 0 {
		return fmt.Errorf("avcodec: convert %dx%d picture to BGR24 failed (%d)", w, h, int(ret))
	}
	return nil
}

// IsI420 reports whether the last received picture is 8-bit YUV 4:2:0 in
// limited range, the one format ToI420 copies without converting.
func (d *Decoder) IsI420() bool {
	return d.ctx != nil && d.have && d.frame.format == C.AV_PIX_FMT_YUV420P
}

// ToI420 copies the last received picture into I420 planes: y holds
// Height rows ystride bytes apart, u and v each (Height+1)/2 rows cstride
// bytes apart of (Width+1)/2 samples. YUV 4:2:0 pictures (what cameras
// send) are copied as they are; any other pixel format or range (4:4:4,
// full-range "J" formats, 10 bits) is converted to 8-bit limited-range
// 4:2:0 by swscale first. The decoder keeps its own picture: libavcodec may
// still predict from it, so it must never be written.
func (d *Decoder) ToI420(y []byte, ystride int, u, v []byte, cstride int) error {
	if d.ctx == nil {
		return ErrClosed
	}
	if !d.have {
		return ErrNoPicture
	}
	w, h := int(d.frame.width), int(d.frame.height)
	if w <= 0 || h <= 0 {
		return fmt.Errorf("avcodec: picture has no pixels (%dx%d)", w, h)
	}
	cw, ch := (w+1)/2, (h+1)/2
	switch {
	case ystride < w || cstride < cw:
		return fmt.Errorf("avcodec: I420 strides %d/%d are less than %d/%d", ystride, cstride, w, cw)
	case len(y) < ystride*(h-1)+w || len(u) < cstride*(ch-1)+cw || len(v) < cstride*(ch-1)+cw:
		return fmt.Errorf("avcodec: I420 planes of %d/%d/%d bytes are too small for %dx%d", len(y), len(u), len(v), w, h)
	}
	src := d.frame
	if d.frame.format != C.AV_PIX_FMT_YUV420P {
		if d.yuvSws == nil || d.yuvW != d.frame.width || d.yuvH != d.frame.height || d.yuvFmt != d.frame.format {
			C.sws_freeContext(d.yuvSws)
			d.yuvSws = C.sws_getContext(d.frame.width, d.frame.height, int32(d.frame.format), d.frame.width, d.frame.height,
				C.AV_PIX_FMT_YUV420P, C.SWS_FAST_BILINEAR, nil, nil, nil)
			if d.yuvSws == nil {
				return fmt.Errorf("avcodec: no conversion from pixel format %s to YUV420P at %dx%d",
					C.GoString(C.av_get_pix_fmt_name(int32(d.frame.format))), w, h)
			}
			d.yuvW, d.yuvH, d.yuvFmt = d.frame.width, d.frame.height, d.frame.format
		}
		if d.yuvTmp == nil {
			if d.yuvTmp = C.av_frame_alloc(); d.yuvTmp == nil {
				return fmt.Errorf("avcodec: convert %dx%d picture to YUV420P: out of memory", w, h)
			}
		}
		if ret := C.edge_to_i420(d.yuvSws, d.frame, d.yuvTmp); ret <= 0 {
			return fmt.Errorf("avcodec: convert %dx%d picture to YUV420P failed (%d)", w, h, int(ret))
		}
		src = d.yuvTmp
	}
	C.edge_copy_i420(src, (*C.uint8_t)(unsafe.Pointer(&y[0])), C.int(ystride),
		(*C.uint8_t)(unsafe.Pointer(&u[0])), (*C.uint8_t)(unsafe.Pointer(&v[0])), C.int(cstride))
	return nil
}

// I420Slack is how many bytes past the end of the V plane I420ToBGR may
// read: swscale's SIMD converters load whole vectors.
const I420Slack = 256

// I420ToBGR converts a w x h picture (both even) held in I420 planes (y:
// h rows ystride apart; u, v: h/2 rows cstride apart) to packed BGR24 in
// dst, rows stride bytes apart, with the same converter the decoder used
// for whole frames (swscale, BT.601 limited range). v must be followed by
// I420Slack readable bytes and dst must hold BGRSlack spare bytes.
func I420ToBGR(y []byte, ystride int, u, v []byte, cstride, w, h int, dst []byte, stride int) error {
	switch {
	case w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0:
		return fmt.Errorf("avcodec: I420 to BGR needs a positive even size, got %dx%d", w, h)
	case ystride < w || cstride < w/2 || stride < 3*w:
		return fmt.Errorf("avcodec: I420 to BGR strides %d/%d/%d too small for width %d", ystride, cstride, stride, w)
	case len(y) < ystride*(h-1)+w || len(u) < cstride*(h/2-1)+w/2 || len(v) < cstride*(h/2-1)+w/2+I420Slack:
		return fmt.Errorf("avcodec: I420 planes of %d/%d/%d bytes too small for %dx%d (V needs I420Slack spare bytes)", len(y), len(u), len(v), w, h)
	case len(dst) < stride*(h-1)+3*w+BGRSlack:
		return fmt.Errorf("avcodec: BGR buffer of %d bytes too small for %dx%d and BGRSlack", len(dst), w, h)
	}
	if ret := C.edge_i420_to_bgr((*C.uint8_t)(unsafe.Pointer(&y[0])), C.int(ystride), (*C.uint8_t)(unsafe.Pointer(&u[0])),
		(*C.uint8_t)(unsafe.Pointer(&v[0])), C.int(cstride), C.int(w), C.int(h), (*C.uint8_t)(unsafe.Pointer(&dst[0])), C.int(stride)); ret <= 0 {
		return fmt.Errorf("avcodec: convert %dx%d I420 to BGR24 failed (%d)", w, h, int(ret))
	}
	return nil
}

// Close frees the decoder. It is safe to call more than once.
func (d *Decoder) Close() {
	if d.sws != nil {
		C.sws_freeContext(d.sws)
		d.sws = nil
	}
	if d.yuvSws != nil {
		C.sws_freeContext(d.yuvSws)
		d.yuvSws = nil
	}
	if d.yuvTmp != nil {
		C.av_frame_free(&d.yuvTmp)
	}
	if d.frame != nil {
		C.av_frame_free(&d.frame)
	}
	if d.pkt != nil {
		C.av_packet_free(&d.pkt)
	}
	if d.ctx != nil {
		C.edge_close(&d.ctx, d.st)
		d.ctx, d.st = nil, nil
	}
	d.have = false
}

func (d *Decoder) err(op string, code C.int) error {
	var base error
	if code == C.edge_invaliddata {
		base = ErrInvalidData
	} else {
		base = errors.New(averror.Text(int(code)))
	}
	return fmt.Errorf("avcodec: %v: %s: %w%s", d.codec, op, base, d.lastLog())
}

func (d *Decoder) lastLog() string {
	if d.st == nil || d.st.first_err[0] == 0 {
		return ""
	}
	return " (libavcodec: " + C.GoString(&d.st.first_err[0]) + ")"
}
