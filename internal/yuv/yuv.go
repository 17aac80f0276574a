// Package yuv holds a decoded picture as 8-bit YUV 4:2:0 planes (I420, the
// layout libavcodec decodes H.264 and H.265 into) in one gocv.Mat, and
// converts it, or only a part of it, to BGR when a consumer needs BGR.
//
// Keeping pictures in YUV until a consumer needs BGR saves the conversion
// of every whole frame: masking paints the planes, motion reads luma, the
// detector converts only its crop.
package yuv

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/avcodec"
)

// Picture is a w x h picture in I420 layout: a luma plane of W2 x H2 bytes
// (W2, H2 are w, h rounded up to even: 4:2:0 converters need even sizes),
// then the U and the V plane, W2/2 x H2/2 bytes each, packed, then
// avcodec.I420Slack spare bytes (swscale reads whole vectors). Chroma
// sample (cx, cy) covers luma pixels 2cx..2cx+1 x 2cy..2cy+1. On an odd
// size the padding column or row repeats the last real one (Pad) and is cut
// off by every conversion.
//
// A Picture owns its Mats: Close it exactly once. Copies of the struct share
// them.
type Picture struct {
	buf  gocv.Mat // the planes and the slack, one row of W2 bytes per row
	luma gocv.Mat // view of the w x h luma pixels, for OpenCV calls
	mem  *buffer  // buf's memory when it came from the free list (New)
	w, h int
}

// Planes is a view of a Picture's bytes. The slices alias the Picture: they
// are valid until it is closed.
type Planes struct {
	W, H    int // picture size
	Y       []byte
	YStride int // W2
	U, V    []byte
	CStride int // W2 / 2
	CW, CH  int // chroma samples that cover the picture: (W+1)/2 x (H+1)/2
	slack   []byte
}

// New allocates a w x h picture. Its pixels are undefined until written.
func New(w, h int) (Picture, error) {
	if w <= 0 || h <= 0 {
		return Picture{}, fmt.Errorf("yuv: picture size %dx%d has no pixels", w, h)
	}
	w2, h2 := even(w), even(h)
	rows := h2*3/2 + (avcodec.I420Slack+w2-1)/w2
	mem := getBuffer(rows * w2)
	m, err := gocv.NewMatFromBytes(rows, w2, gocv.MatTypeCV8U, mem.bytes())
	if err != nil {
		putBuffer(mem)
		return Picture{}, fmt.Errorf("yuv: %dx%d picture: %w", w, h, err)
	}
	return Picture{buf: m, luma: m.Region(image.Rect(0, 0, w, h)), mem: mem, w: w, h: h}, nil
}

// newUnpooled allocates a w x h picture outside the free list, for
// pictures of passing sizes (crops) that would only crowd it.
func newUnpooled(w, h int) Picture {
	w2, h2 := even(w), even(h)
	m := gocv.NewMatWithSize(h2*3/2+(avcodec.I420Slack+w2-1)/w2, w2, gocv.MatTypeCV8U)
	return Picture{buf: m, luma: m.Region(image.Rect(0, 0, w, h)), w: w, h: h}
}

func even(v int) int { return (v + 1) &^ 1 }

// Size is the picture's width and height.
func (p Picture) Size() image.Point { return image.Pt(p.w, p.h) }

// Empty says whether p holds no picture (the zero Picture).
func (p Picture) Empty() bool { return p.w == 0 || p.h == 0 || p.buf.Ptr() == nil || p.buf.Empty() }

// Close frees the picture.
func (p Picture) Close() {
	if p.buf.Ptr() == nil {
		return
	}
	p.luma.Close()
	p.buf.Close()
	if p.mem != nil {
		putBuffer(p.mem) // the Mats, which pointed at it, are gone
	}
}

// Luma is a w x h single-channel view of the luma plane (not continuous on
// odd widths). It stays owned by p: do not Close it.
func (p Picture) Luma() gocv.Mat { return p.luma }

// Planes returns the picture's planes.
func (p Picture) Planes() (Planes, error) {
	if p.Empty() {
		return Planes{}, ErrNoPicture
	}
	data, err := p.buf.DataPtrUint8()
	if err != nil {
		return Planes{}, fmt.Errorf("yuv: picture not addressable: %w", err)
	}
	w2, h2 := even(p.w), even(p.h)
	ys, cs := w2, w2/2
	size := w2 * h2 * 3 / 2
	if len(data) < size+avcodec.I420Slack {
		return Planes{}, fmt.Errorf("yuv: picture holds %d bytes, %dx%d I420 needs %d", len(data), p.w, p.h, size+avcodec.I420Slack)
	}
	csize := cs * (h2 / 2)
	return Planes{
		W: p.w, H: p.h,
		Y: data[:ys*h2], YStride: ys,
		U: data[ys*h2 : ys*h2+csize], V: data[ys*h2+csize : size], CStride: cs,
		CW: (p.w + 1) / 2, CH: (p.h + 1) / 2,
		slack: data[ys*h2+csize:],
	}, nil
}

// Pad repeats the last column and row of luma into the padding of an odd
// size, so that nothing but picture (or fill) is ever in the buffer.
func (pl Planes) Pad() {
	if pl.W%2 == 1 {
		for y := 0; y < pl.H; y++ {
			pl.Y[y*pl.YStride+pl.W] = pl.Y[y*pl.YStride+pl.W-1]
		}
	}
	if pl.H%2 == 1 {
		copy(pl.Y[pl.H*pl.YStride:(pl.H+1)*pl.YStride], pl.Y[(pl.H-1)*pl.YStride:pl.H*pl.YStride])
	}
}

// ErrNoPicture is returned for an empty Picture.
var ErrNoPicture = errors.New("yuv: no picture")

// BGR converts the whole picture to a new continuous w x h BGR Mat, which
// the caller closes. It converts with swscale, as the decoder converted
// whole frames before pictures stayed in YUV, so the detector sees the
// same pixels it was tuned on.
func (p Picture) BGR() (gocv.Mat, error) { return p.CropBGR(image.Rect(0, 0, p.w, p.h)) }

// convWidth is the width swscale converts at for a picture w wide: its
// SIMD yuv2rgb leaves the last pixels of a row unwritten when the width is
// 2, 4 or 6 past a multiple of 16 (FFmpeg 5.1, measured), so conversions
// run on a multiple of 16 and are cut back.
func convWidth(w int) int { return (w + 15) &^ 15 }

// cropPlanes is p's planes and r clipped to the picture, or an error for
// an empty picture or a crop that lies wholly outside it.
func (p Picture) cropPlanes(r image.Rectangle) (Planes, image.Rectangle, error) {
	pl, err := p.Planes()
	if err != nil {
		return Planes{}, r, err
	}
	in := r.Intersect(image.Rect(0, 0, p.w, p.h))
	if in.Empty() {
		return Planes{}, r, fmt.Errorf("yuv: crop %v lies outside the %dx%d picture", r, p.w, p.h)
	}
	return pl, in, nil
}

// CropBGR converts only r (clipped to the picture) to a new continuous BGR
// Mat of r's size, which the caller closes. Work is proportional to r's
// area, not the frame's.
func (p Picture) CropBGR(r image.Rectangle) (gocv.Mat, error) {
	pl, r, err := p.cropPlanes(r)
	if err != nil {
		return gocv.Mat{}, err
	}
	// Widen to even edges (within the padded planes) so the crop has whole
	// chroma samples, and to a width swscale writes whole; convert, then
	// cut back to r.
	e := image.Rect(r.Min.X&^1, r.Min.Y&^1, even(r.Max.X), even(r.Max.Y))
	cw, ch := convWidth(e.Dx()), e.Dy()
	src := pl
	if e.Min != (image.Point{}) || cw != pl.YStride || ch != even(p.h) {
		// Copy the crop into planes of its own, the last column repeated
		// out to the conversion width.
		sub := newUnpooled(cw, ch)
		defer sub.Close()
		if src, err = sub.Planes(); err != nil {
			return gocv.Mat{}, err
		}
		copyPlane(src.Y, src.YStride, pl.Y[e.Min.Y*pl.YStride+e.Min.X:], pl.YStride, e.Dx(), ch)
		copyPlane(src.U, src.CStride, pl.U[e.Min.Y/2*pl.CStride+e.Min.X/2:], pl.CStride, e.Dx()/2, ch/2)
		copyPlane(src.V, src.CStride, pl.V[e.Min.Y/2*pl.CStride+e.Min.X/2:], pl.CStride, e.Dx()/2, ch/2)
	}
	conv, err := SlackBGR(cw, ch, func(dst []byte, step int) error {
		return avcodec.I420ToBGR(src.Y, src.YStride, src.U, src.slack, src.CStride, cw, ch, dst, step)
	})
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("yuv: %v of a %dx%d picture to BGR: %w", r, p.w, p.h, err)
	}
	view := conv.Region(r.Sub(e.Min))
	conv.Close()
	if !view.IsContinuous() {
		c := view.Clone()
		view.Close()
		return c, nil
	}
	return view, nil
}

// fullRange maps a BT.601 limited-range luma sample (16..235), what the
// decoder gives and what the BGR conversions assume, to the full-range grey
// (0..255) that converting to BGR and then to grey gives: a detector that
// looks at brightness alone sees the contrast it was tuned on.
var fullRange = func() (t [256]byte) {
	for i := range t {
		v := (float64(i) - 16) * 255 / 219
		t[i] = byte(min(max(math.Round(v), 0), 255))
	}
	return t
}()

// CropGray copies only r (clipped to the picture) of the luma plane to a
// new continuous single-channel Mat of r's size, in full range (see
// fullRange), which the caller closes. No colour conversion: for
// detectors of brightness alone, it costs a copy of r's luma.
func (p Picture) CropGray(r image.Rectangle) (gocv.Mat, error) {
	pl, r, err := p.cropPlanes(r)
	if err != nil {
		return gocv.Mat{}, err
	}
	m := gocv.NewMatWithSize(r.Dy(), r.Dx(), gocv.MatTypeCV8UC1)
	dst, err := m.DataPtrUint8()
	if err != nil {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("yuv: grey crop not addressable: %w", err)
	}
	w := r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		src := pl.Y[y*pl.YStride+r.Min.X : y*pl.YStride+r.Max.X]
		row := dst[(y-r.Min.Y)*w : (y-r.Min.Y+1)*w]
		for x, v := range src {
			row[x] = fullRange[v]
		}
	}
	return m, nil
}

// SlackBGR returns a new w x h BGR Mat that convert fills: swscale's
// conversions (avcodec's ToBGR and I420ToBGR) may write up to
// avcodec.BGRSlack bytes past the last pixel, so convert writes into a Mat
// with spare rows for them, with its row step, and the result is a view of
// its first h rows. The caller closes it.
func SlackBGR(w, h int, convert func(dst []byte, step int) error) (gocv.Mat, error) {
	spare := (avcodec.BGRSlack + w*3 - 1) / (w * 3)
	whole := gocv.NewMatWithSize(h+spare, w, gocv.MatTypeCV8UC3)
	defer whole.Close()
	dst, err := whole.DataPtrUint8()
	if err == nil {
		err = convert(dst, whole.Step())
	}
	if err != nil {
		return gocv.Mat{}, err
	}
	return whole.Region(image.Rect(0, 0, w, h)), nil
}

// copyPlane copies w x h samples from src into dst and repeats each row's
// last sample out to dstStride.
func copyPlane(dst []byte, dstStride int, src []byte, srcStride, w, h int) {
	for y := 0; y < h; y++ {
		row := dst[y*dstStride : (y+1)*dstStride]
		copy(row, src[y*srcStride:y*srcStride+w])
		for x := w; x < dstStride; x++ {
			row[x] = row[w-1]
		}
	}
}

// FromBGR converts a BGR picture (any size >= 1x1) to a new Picture, for
// tools and tests that start from BGR. The caller closes it.
func FromBGR(bgr gocv.Mat) (Picture, error) {
	if bgr.Ptr() == nil || bgr.Empty() {
		return Picture{}, fmt.Errorf("yuv: want a non-empty 8-bit BGR picture, got an empty one")
	}
	if bgr.Type() != gocv.MatTypeCV8UC3 {
		return Picture{}, fmt.Errorf("yuv: want a non-empty 8-bit BGR picture, got type %v", bgr.Type())
	}
	w, h := bgr.Cols(), bgr.Rows()
	src := bgr
	if w%2 == 1 || h%2 == 1 {
		src = gocv.NewMat()
		defer src.Close()
		gocv.CopyMakeBorder(bgr, &src, 0, h%2, 0, w%2, gocv.BorderReplicate, color.RGBA{})
	}
	m := gocv.NewMat()
	defer m.Close()
	gocv.CvtColor(src, &m, gocv.ColorBGRToYUVI420)
	if m.Cols() != even(w) || m.Rows() != even(h)*3/2 || !m.IsContinuous() {
		return Picture{}, fmt.Errorf("yuv: %dx%d BGR converted to a %dx%d I420 buffer", w, h, m.Cols(), m.Rows())
	}
	data, err := m.DataPtrUint8()
	if err != nil {
		return Picture{}, fmt.Errorf("yuv: I420 buffer: %w", err)
	}
	p, err := New(w, h)
	if err != nil {
		return Picture{}, err
	}
	pl, err := p.Planes()
	if err != nil {
		p.Close()
		return Picture{}, err
	}
	copy(pl.Y, data) // the three planes are contiguous in both
	copy(pl.U, data[len(pl.Y):])
	copy(pl.V, data[len(pl.Y)+len(pl.U):])
	return p, nil
}

// Color is a fill in YUV (BT.601, limited range, as decoders output and
// BGR converts).
type Color struct{ Y, U, V uint8 }

// FromBGRColor returns the YUV value OpenCV converts c (B, G, R) to.
func FromBGRColor(c [3]uint8) Color {
	b, g, r := float64(c[0]), float64(c[1]), float64(c[2])
	y := 16 + (65.481*r+128.553*g+24.966*b)/255
	u := 128 + (-37.797*r-74.203*g+112.0*b)/255
	v := 128 + (112.0*r-93.786*g-18.214*b)/255
	return Color{Y: clamp(y), U: clamp(u), V: clamp(v)}
}

func clamp(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// ShownBGR is the BGR value pixels of colour c have after conversion to
// BGR: the fill a masked picture shows, within a level or two of the
// configured colour (YUV cannot hold every BGR value).
func ShownBGR(c Color) ([3]uint8, error) {
	p, err := New(2, 2)
	if err != nil {
		return [3]uint8{}, err
	}
	defer p.Close()
	pl, err := p.Planes()
	if err != nil {
		return [3]uint8{}, err
	}
	for i := range pl.Y {
		pl.Y[i] = c.Y
	}
	pl.U[0], pl.V[0] = c.U, c.V
	m, err := p.BGR()
	if err != nil {
		return [3]uint8{}, err
	}
	defer m.Close()
	v := m.GetVecbAt(0, 0)
	return [3]uint8{v[0], v[1], v[2]}, nil
}
