// Package averror turns an FFmpeg error code (a negative AVERROR) into the
// text libavutil gives it, for the packages that call FFmpeg (avcodec,
// mediafile, encode, record).
package averror

/*
#cgo pkg-config: libavutil
#include <libavutil/error.h>
*/
import "C"

// Text is FFmpeg's description of code, e.g. "Invalid data found when
// processing input" for AVERROR_INVALIDDATA.
func Text(code int) string {
	var buf [C.AV_ERROR_MAX_STRING_SIZE]C.char
	C.av_strerror(C.int(code), &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}
