// Package encode turns masked pictures (I420 planes, or BGR) into H.264 with libavcodec's
// libx264, tuned for live restreaming: no B-frames, no lookahead, one
// picture in, its access unit out.
//
// It lives apart from internal/avcodec (the decoder) so that each keeps its
// own C state; both link the same Debian FFmpeg libraries.
package encode

/*
#cgo pkg-config: libavcodec libavutil libswscale
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

enum { edge_enc_eagain = AVERROR(EAGAIN) };
enum { edge_enc_eof = AVERROR_EOF };
enum { edge_enc_noencoder = AVERROR_ENCODER_NOT_FOUND };
enum { edge_enc_bgr = AV_PIX_FMT_BGR24, edge_enc_i420 = AV_PIX_FMT_YUV420P };

typedef struct {
	AVCodecContext *ctx;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	int in_w, in_h;
} edge_enc;

static void edge_enc_free(edge_enc *e) {
	if (e == NULL) {
		return;
	}
	sws_freeContext(e->sws);
	av_frame_free(&e->frame);
	av_packet_free(&e->pkt);
	avcodec_free_context(&e->ctx);
	free(e);
}

static int edge_enc_open(edge_enc **out, int in_fmt, int in_w, int in_h, int out_w, int out_h,
		int fps_num, int fps_den, int64_t bitrate, int gop, int threads,
		const char *preset, const char *params) {
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	if (codec == NULL) {
		return AVERROR_ENCODER_NOT_FOUND;
	}
	edge_enc *e = calloc(1, sizeof(edge_enc));
	if (e == NULL) {
		return AVERROR(ENOMEM);
	}
	e->in_w = in_w;
	e->in_h = in_h;
	e->ctx = avcodec_alloc_context3(codec);
	e->frame = av_frame_alloc();
	e->pkt = av_packet_alloc();
	if (e->ctx == NULL || e->frame == NULL || e->pkt == NULL) {
		edge_enc_free(e);
		return AVERROR(ENOMEM);
	}
	AVCodecContext *c = e->ctx;
	c->width = out_w;
	c->height = out_h;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	// 90 kHz is the RTP clock of H.264, so timestamps pass through unscaled.
	c->time_base = (AVRational){1, 90000};
	c->framerate = (AVRational){fps_num, fps_den};
	c->gop_size = gop;
	c->max_b_frames = 0;
	c->bit_rate = bitrate;
	// A one-second VBV keeps the rate steady enough for RTSP over TCP
	// without starving keyframes.
	c->rc_max_rate = bitrate;
	c->rc_buffer_size = (int)bitrate;
	c->thread_count = threads;
	// No AV_CODEC_FLAG_GLOBAL_HEADER: libx264 then repeats SPS and PPS in
	// front of every keyframe, so a client joining late can start there.
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "preset", preset, 0);
	av_dict_set(&opts, "tune", "zerolatency", 0);
	av_dict_set(&opts, "x264-params", params, 0);
	int ret = avcodec_open2(c, codec, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		edge_enc_free(e);
		return ret;
	}
	e->frame->format = AV_PIX_FMT_YUV420P;
	e->frame->width = out_w;
	e->frame->height = out_h;
	ret = av_frame_get_buffer(e->frame, 0);
	if (ret < 0) {
		edge_enc_free(e);
		return ret;
	}
	// Downscaling wants a proper filter; same-size conversion only resamples
	// chroma, where bilinear costs nothing visible.
	int flags = (out_w == in_w && out_h == in_h) ? SWS_FAST_BILINEAR : SWS_BICUBIC;
	// I420 in at the same size is a plain copy of the planes.
	e->sws = sws_getContext(in_w, in_h, in_fmt, out_w, out_h, AV_PIX_FMT_YUV420P, flags, NULL, NULL, NULL);
	if (e->sws == NULL) {
		edge_enc_free(e);
		return AVERROR(EINVAL);
	}
	*out = e;
	return 0;
}

static int edge_enc_send(edge_enc *e, const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
		int s0, int s1, int s2, int64_t pts, int key) {
	// The encoder may still hold the previous picture's buffer.
	int ret = av_frame_make_writable(e->frame);
	if (ret < 0) {
		return ret;
	}
	const uint8_t *src[4] = {p0, p1, p2, NULL};
	int src_stride[4] = {s0, s1, s2, 0};
	if (sws_scale(e->sws, src, src_stride, 0, e->in_h, e->frame->data, e->frame->linesize) <= 0) {
		return AVERROR(EINVAL);
	}
	e->frame->pts = pts;
	e->frame->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	return avcodec_send_frame(e->ctx, e->frame);
}

static int edge_enc_receive(edge_enc *e) {
	av_packet_unref(e->pkt);
	return avcodec_receive_packet(e->ctx, e->pkt);
}

static int edge_enc_flush(edge_enc *e) {
	return avcodec_send_frame(e->ctx, NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"
	"unsafe"

	"github.com/edgeprivacy/edge/internal/averror"
)

// Defaults for Config fields left zero.
const (
	DefaultGOP    = 2 * time.Second
	DefaultPreset = "ultrafast"
)

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("encode: encoder is closed")

// Format is the layout of the pictures an Encoder is fed.
type Format int

// Formats an Encoder takes.
const (
	// BGR is packed 8-bit B, G, R (Encode).
	BGR Format = iota
	// I420 is 8-bit YUV 4:2:0 in three planes (EncodeI420), as decoded and
	// masked: at the same size it is copied as is, with no colour
	// conversion at all.
	I420
)

// Config configures an Encoder.
type Config struct {
	// Width and Height are the size of the pictures fed in. Required.
	Width, Height int
	// Input is the pictures' layout. It defaults to BGR.
	Input Format
	// OutWidth downscales to this width, keeping the aspect ratio (the
	// height is rounded to even). 0 keeps the input size. Never upscales.
	OutWidth int
	// FPS is the nominal frame rate, for rate control. Required.
	FPS float64
	// BitrateKbps is the target (and VBV maximum) bitrate. Required.
	BitrateKbps int
	// GOP is the keyframe interval; a client joining waits at most this
	// long for a picture. It defaults to 2 s.
	GOP time.Duration
	// Threads is libx264's thread count. It defaults to 1: each camera has
	// its own encoder goroutine and the target box has 2 cores.
	Threads int
	// Preset is the x264 preset. It defaults to "ultrafast".
	Preset string
}

// Packet is one encoded access unit.
type Packet struct {
	// Data is the access unit in Annex-B form (start codes before every NAL
	// unit); keyframes carry SPS and PPS in front.
	Data []byte
	// PTS and DTS are equal: there are no B-frames.
	PTS, DTS time.Duration
	// Key marks an IDR picture, where a decoder can start.
	Key bool
}

// Encoder encodes one stream. It is not safe for concurrent use.
type Encoder struct {
	cfg      Config
	outW     int
	outH     int
	e        *C.edge_enc
	lastPTS  int64 // in 90 kHz ticks; pts must increase strictly
	havePTS  bool
	forceKey bool
	pad      []byte // a copy of the picture with InputSlack after it, when needed
}

// InputSlack is how many bytes past a picture's last pixel the BGR to YUV
// conversion may read. swscale reads 8 past the end (measured with FFmpeg
// 5.1 on x86-64 for every downscale and for 2-pixel-wide pictures, with the
// picture ending at an unmapped page: TestNoReadPastThePicture); wider SIMD
// elsewhere may read more.
const InputSlack = 64

// CheckSize refuses a picture size libx264 cannot take: YUV 4:2:0 needs
// positive, even widths and heights.
func CheckSize(w, h int) error {
	if w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("encode: picture size %dx%d: width and height must be positive and even for YUV 4:2:0", w, h)
	}
	return nil
}

// New opens libx264 for cfg.
func New(cfg Config) (*Encoder, error) {
	if err := CheckSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if !(cfg.FPS > 0) || cfg.BitrateKbps <= 0 {
		return nil, fmt.Errorf("encode: frame rate %v and bitrate %d kbit/s must be positive (encode.fps, encode.bitrate_kbps; configs fills in their defaults)", cfg.FPS, cfg.BitrateKbps)
	}
	if cfg.GOP <= 0 {
		cfg.GOP = DefaultGOP
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.Preset == "" {
		cfg.Preset = DefaultPreset
	}
	outW, outH := OutSize(cfg.Width, cfg.Height, cfg.OutWidth)
	gop := max(1, int(math.Round(cfg.GOP.Seconds()*cfg.FPS)))
	// Frame rate as a rational with millisecond precision (e.g. 29.97).
	num, den := int(math.Round(cfg.FPS*1000)), 1000

	preset := C.CString(cfg.Preset)
	defer C.free(unsafe.Pointer(preset))
	// log=0 keeps x264's banner and statistics off stderr (errors still show).
	params := C.CString("log=0")
	defer C.free(unsafe.Pointer(params))
	enc := &Encoder{cfg: cfg, outW: outW, outH: outH}
	inFmt := C.int(C.edge_enc_bgr)
	if cfg.Input == I420 {
		inFmt = C.edge_enc_i420
	}
	ret := C.edge_enc_open(&enc.e, inFmt, C.int(cfg.Width), C.int(cfg.Height), C.int(outW), C.int(outH),
		C.int(num), C.int(den), C.int64_t(cfg.BitrateKbps)*1000, C.int(gop), C.int(cfg.Threads), preset, params)
	if ret < 0 {
		fix := ""
		if ret == C.edge_enc_noencoder {
			fix = " (install an FFmpeg built with libx264, e.g. Debian's libavcodec59: scripts/deps.sh)"
		}
		return nil, fmt.Errorf("encode: open libx264 %dx%d -> %dx%d, preset %q: %s%s", cfg.Width, cfg.Height, outW, outH, cfg.Preset, averror.Text(int(ret)), fix)
	}
	return enc, nil
}

// OutSize is the encoded size for a w x h input and a requested width (0:
// keep): the aspect ratio is kept, sizes are even, and never larger than
// the input.
func OutSize(w, h, outW int) (int, int) {
	if outW <= 0 || outW >= w {
		return w, h
	}
	outW &^= 1
	outW = max(outW, 2)
	outH := int(math.Round(float64(h)*float64(outW)/float64(w))) &^ 1
	return outW, max(outH, 2)
}

// InSize is the input picture size the encoder was opened for.
func (e *Encoder) InSize() (int, int) { return e.cfg.Width, e.cfg.Height }

// OutSize is the encoded picture size.
func (e *Encoder) OutSize() (int, int) { return e.outW, e.outH }

// ForceKey makes the next picture an IDR (a new recording segment, say).
func (e *Encoder) ForceKey() { e.forceKey = true }

// Encode converts one packed BGR picture (rows stride bytes apart, of the
// size given in Config) and returns the access units ready; with the
// zero-latency tuning that is the picture's own. pts must increase; a pts
// that does not is moved just past the previous one, so a restarted source
// cannot break the stream.
func (e *Encoder) Encode(bgr []byte, stride int, pts time.Duration) ([]Packet, error) {
	if e.e == nil {
		return nil, ErrClosed
	}
	if e.cfg.Input != BGR {
		return nil, fmt.Errorf("encode: Encode takes BGR; this encoder was opened for I420 (EncodeI420)")
	}
	w, h := e.cfg.Width, e.cfg.Height
	if stride < 3*w {
		return nil, fmt.Errorf("encode: BGR stride %d is less than 3*width %d", stride, w)
	}
	need := stride*(h-1) + 3*w
	if len(bgr) < need {
		return nil, fmt.Errorf("encode: BGR buffer holds %d bytes, %dx%d needs %d", len(bgr), w, h, need)
	}
	if !readableAfter(bgr[:need], InputSlack) {
		// Rare (a picture ending within InputSlack of a page end): a copy
		// with room after it, rather than a read of an unmapped page.
		if cap(e.pad) < need+InputSlack {
			e.pad = make([]byte, need+InputSlack)
		}
		e.pad = e.pad[:need+InputSlack]
		copy(e.pad, bgr[:need])
		bgr = e.pad
	}
	return e.send(unsafe.Pointer(&bgr[0]), nil, nil, stride, 0, 0, pts)
}

// EncodeI420 encodes one picture given as I420 planes of the size in
// Config (Input I420): luma rows yStride bytes apart, chroma rows cStride
// apart, (Width+1)/2 x (Height+1)/2 chroma samples. Like Encode, it returns
// the access units ready. swscale may read up to InputSlack bytes past the
// end of each plane; the planes of a yuv.Picture have room for that.
func (e *Encoder) EncodeI420(y []byte, yStride int, u, v []byte, cStride int, pts time.Duration) ([]Packet, error) {
	if e.e == nil {
		return nil, ErrClosed
	}
	if e.cfg.Input != I420 {
		return nil, fmt.Errorf("encode: EncodeI420 takes I420; this encoder was opened for BGR (Encode)")
	}
	w, h := e.cfg.Width, e.cfg.Height
	cw, ch := (w+1)/2, (h+1)/2
	switch {
	case yStride < w || cStride < cw:
		return nil, fmt.Errorf("encode: I420 strides %d, %d are less than the %dx%d picture's rows", yStride, cStride, w, h)
	case len(y) < yStride*(h-1)+w:
		return nil, fmt.Errorf("encode: luma plane holds %d bytes, %dx%d needs %d", len(y), w, h, yStride*(h-1)+w)
	case len(u) < cStride*(ch-1)+cw || len(v) < cStride*(ch-1)+cw:
		return nil, fmt.Errorf("encode: chroma planes hold %d and %d bytes, %dx%d needs %d", len(u), len(v), w, h, cStride*(ch-1)+cw)
	}
	return e.send(unsafe.Pointer(&y[0]), unsafe.Pointer(&u[0]), unsafe.Pointer(&v[0]), yStride, cStride, cStride, pts)
}

// send hands one picture's planes to swscale and libx264.
func (e *Encoder) send(p0, p1, p2 unsafe.Pointer, s0, s1, s2 int, pts time.Duration) ([]Packet, error) {
	ticks := pts.Nanoseconds() * 9 / 100000
	if e.havePTS && ticks <= e.lastPTS {
		ticks = e.lastPTS + 1
	}
	e.lastPTS, e.havePTS = ticks, true
	key := C.int(0)
	if e.forceKey {
		key, e.forceKey = 1, false
	}
	if ret := C.edge_enc_send(e.e, (*C.uint8_t)(p0), (*C.uint8_t)(p1), (*C.uint8_t)(p2),
		C.int(s0), C.int(s1), C.int(s2), C.int64_t(ticks), key); ret < 0 {
		return nil, fmt.Errorf("encode: send picture: %s", averror.Text(int(ret)))
	}
	return e.receive()
}

// readableAfter reports whether the n bytes after b's last byte can be read
// without a fault: they are in b's capacity, or in the memory page of its
// last byte (faults come a page at a time).
func readableAfter(b []byte, n int) bool {
	if cap(b)-len(b) >= n {
		return true
	}
	page := uintptr(os.Getpagesize())
	last := uintptr(unsafe.Pointer(&b[len(b)-1]))
	return last%page+uintptr(n) < page
}

// Flush returns the access units the encoder still holds (none with the
// zero-latency tuning, but a preset with lookahead would have some). The
// encoder accepts no more pictures afterwards.
func (e *Encoder) Flush() ([]Packet, error) {
	if e.e == nil {
		return nil, ErrClosed
	}
	if ret := C.edge_enc_flush(e.e); ret < 0 && ret != C.edge_enc_eof {
		return nil, fmt.Errorf("encode: flush: %s", averror.Text(int(ret)))
	}
	return e.receive()
}

func (e *Encoder) receive() ([]Packet, error) {
	var out []Packet
	for {
		ret := C.edge_enc_receive(e.e)
		if ret == C.edge_enc_eagain || ret == C.edge_enc_eof {
			return out, nil
		}
		if ret < 0 {
			return out, fmt.Errorf("encode: receive packet: %s", averror.Text(int(ret)))
		}
		p := e.e.pkt
		out = append(out, Packet{
			Data: C.GoBytes(unsafe.Pointer(p.data), p.size),
			PTS:  fromTicks(int64(p.pts)),
			DTS:  fromTicks(int64(p.dts)),
			Key:  p.flags&C.AV_PKT_FLAG_KEY != 0,
		})
	}
}

func fromTicks(t int64) time.Duration { return time.Duration(t) * 100000 / 9 }

// Close frees the encoder. It is safe to call more than once.
func (e *Encoder) Close() {
	if e.e != nil {
		C.edge_enc_free(e.e)
		e.e = nil
	}
}
