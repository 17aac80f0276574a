package detect

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// Grey is the value (in every channel: three in BGR, one in grey) of every
// pixel of a crop that lies outside the analysis mask: a flat field carries
// no information and gives the detector no edges to fire on.
const Grey = 128

// Placement maps a crop back onto the frame it was cut from.
type Placement struct {
	// Rect is the cropped region of the frame: the analysis region's bounds.
	Rect image.Rectangle
	// Size is the crop's size after scaling.
	Size image.Point
}

// ToFrame maps r, in crop pixels, to frame pixels. It does not clip: a box
// cut at the region's edge would move the feet of a person standing beside
// the zone onto its edge and count them; the caller clips to the frame.
func (p Placement) ToFrame(r image.Rectangle) image.Rectangle {
	sx := float64(p.Rect.Dx()) / float64(p.Size.X)
	sy := float64(p.Rect.Dy()) / float64(p.Size.Y)
	conv := func(v int, s float64, o int) int { return o + int(float64(v)*s+0.5) }
	return image.Rect(conv(r.Min.X, sx, p.Rect.Min.X), conv(r.Min.Y, sy, p.Rect.Min.Y),
		conv(r.Max.X, sx, p.Rect.Min.X), conv(r.Max.Y, sy, p.Rect.Min.Y))
}

// MinHeight is the height, in frame pixels, of the smallest box a
// detector with the given window can report from a crop placed by p: the
// window's height mapped back to the frame (128 / 1.25 = 102 px for HOG on
// a crop enlarged 1.25 times). Motion crops keep the whole area's scale,
// so it holds for them too.
func (p Placement) MinHeight(window image.Point) int {
	if p.Size.Y <= 0 {
		return 0
	}
	return int(float64(window.Y)*float64(p.Rect.Dy())/float64(p.Size.Y) + 0.5)
}

// Plan is where Crop would cut am's bounding box and the size it would
// scale it to: down to width (0: no cap), then up by upscale (at most 1:
// not enlarged). ok is false when am is empty.
func Plan(am *zones.Mask, width int, upscale float64) (p Placement, ok bool) {
	x0, y0, x1, y1 := am.Bounds()
	rect := image.Rect(x0, y0, x1, y1)
	if rect.Empty() {
		return Placement{}, false
	}
	p = Placement{Rect: rect, Size: rect.Size()}
	if cw := rect.Dx(); width > 0 && cw > width {
		p.Size = image.Pt(width, max(1, (rect.Dy()*width+cw/2)/cw))
	}
	if upscale > 1 {
		p.Size = image.Pt(int(float64(p.Size.X)*upscale+0.5), int(float64(p.Size.Y)*upscale+0.5))
	}
	return p, true
}

// Crop converts the bounding box of am out of f (the size am was
// rasterised for) to BGR (grey with grey set: see InputGrey), paints
// every pixel outside am Grey, and scales the result down to at most width
// pixels wide, then up by upscale (see Plan). Only the crop is converted,
// never the whole frame. ok is false when am is empty. The caller closes
// img; f is only read.
func Crop(f *mask.Frame, am *zones.Mask, width int, upscale float64, grey bool) (img gocv.Mat, p Placement, ok bool, err error) {
	sz := f.Size()
	if sz.X == 0 || sz.Y == 0 {
		return gocv.Mat{}, Placement{}, false, fmt.Errorf("detect: empty frame")
	}
	if sz.X != am.W || sz.Y != am.H || len(am.Rows) != am.H {
		return gocv.Mat{}, Placement{}, false, fmt.Errorf("detect: analysis mask is %dx%d, frame is %dx%d", am.W, am.H, sz.X, sz.Y)
	}
	p, ok = Plan(am, width, upscale)
	if !ok {
		return gocv.Mat{}, Placement{}, false, nil
	}
	img, err = cropPlaced(f, am, p, grey)
	if err != nil {
		return gocv.Mat{}, Placement{}, false, err
	}
	return img, p, true, nil
}

// cropPlaced copies p.Rect of f, as BGR or (grey) as the luma plane's grey,
// paints what lies outside am Grey, and scales it to p.Size. am is f's
// size.
func cropPlaced(f *mask.Frame, am *zones.Mask, p Placement, grey bool) (gocv.Mat, error) {
	rect := p.Rect
	x0, y0 := rect.Min.X, rect.Min.Y
	// Our own, continuous copy: the frame is shared.
	crop, ch, typ := gocv.Mat{}, 3, gocv.MatTypeCV8UC3
	var err error
	if grey {
		ch, typ = 1, gocv.MatTypeCV8UC1
		crop, err = f.CropGray(rect)
	} else {
		crop, err = f.CropBGR(rect)
	}
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("detect: crop %v: %w", rect, err)
	}
	if crop.Cols() != rect.Dx() || crop.Rows() != rect.Dy() || crop.Type() != typ || !crop.IsContinuous() {
		crop.Close()
		return gocv.Mat{}, fmt.Errorf("detect: crop %v converted to %dx%d type %v", rect, crop.Cols(), crop.Rows(), crop.Type())
	}
	data, err := crop.DataPtrUint8()
	if err != nil {
		crop.Close()
		return gocv.Mat{}, fmt.Errorf("detect: crop not addressable: %w", err)
	}
	cw := rect.Dx()
	for y := y0; y < rect.Max.Y; y++ {
		row := data[(y-y0)*cw*ch : (y-y0+1)*cw*ch]
		x := x0
		for _, sp := range am.Rows[y] {
			// Spans are clipped to the crop: a mask that strays outside its
			// own bounds must not index past the row.
			s0, s1 := min(max(sp.X0, x), rect.Max.X), min(max(sp.X1, x), rect.Max.X)
			paintGrey(row[(x-x0)*ch : (s0-x0)*ch])
			x = s1
		}
		paintGrey(row[(x-x0)*ch:])
	}
	if p.Size != rect.Size() {
		// Area averaging to shrink (no aliasing); bilinear to enlarge, which
		// keeps HOG's gradients smooth (area is nearest-neighbour upwards).
		interp := gocv.InterpolationArea
		if p.Size.X > rect.Dx() {
			interp = gocv.InterpolationLinear
		}
		scaled := gocv.NewMat()
		gocv.Resize(crop, &scaled, p.Size, 0, 0, interp)
		crop.Close()
		crop = scaled
	}
	return crop, nil
}

func paintGrey(b []byte) {
	for i := range b {
		b[i] = Grey
	}
}
