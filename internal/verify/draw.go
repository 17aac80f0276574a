package verify

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/zones"
)

// Colours of zone outlines by signage status, and of detection boxes.
var (
	colValid   = color.RGBA{R: 40, G: 220, B: 60}
	colPending = color.RGBA{R: 255, G: 160, B: 0}
	colInvalid = color.RGBA{R: 240, G: 40, B: 40}
	colBox     = color.RGBA{R: 255, G: 230, B: 0}
	colLabelBg = color.RGBA{R: 20, G: 20, B: 20}
	colWhite   = color.RGBA{R: 255, G: 255, B: 255}
)

// StatusColour is the outline colour of a monitored zone with status s.
func StatusColour(s zones.SignStatus) color.RGBA {
	switch s {
	case zones.SignValid:
		return colValid
	case zones.SignPending:
		return colPending
	}
	return colInvalid
}

// Annotate draws set's zones onto img, a copy of a masked frame: monitored
// zones outlined in their signage colour at t and labelled "id | sign |
// status", privacy zones (already filled) labelled beside their area, and
// boxes (detections) in yellow. Callers fill the privacy pixels once more
// afterwards (FillPrivacy), since outlines and labels may cross them.
func Annotate(img *gocv.Mat, set *zones.Set, t time.Time, boxes []image.Rectangle) {
	w, h := img.Cols(), img.Rows()
	scale := max(0.4, float64(w)/1600)
	thick := max(1, int(math.Round(float64(w)/640)))
	for _, z := range set.Monitored() {
		st := set.SignageStatus(z.ID, t)
		col := StatusColour(st)
		pts := toPixels(z.Polygon, w, h)
		pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
		gocv.Polylines(img, pv, true, col, thick+1)
		pv.Close()
		sign := z.Signage
		if sign == "" {
			sign = "no sign"
		}
		b := bounds(pts)
		label(img, fmt.Sprintf("%s | %s | %s", z.ID, sign, st), image.Pt(b.Min.X+thick+2, b.Min.Y+thick+2), col, scale, thick, false, b)
	}
	for _, z := range set.Privacy() {
		b := bounds(toPixels(z.Polygon, w, h))
		label(img, "PRIVACY "+z.ID, image.Pt(b.Min.X, b.Min.Y), colWhite, scale, thick, true, b)
	}
	for _, r := range boxes {
		gocv.Rectangle(img, r, colBox, thick)
	}
}

// label writes text on a dark box at top-left at (inside false), or, for a
// privacy zone (outside true), just above its bounds b or else just below,
// so that it does not sit on the fill.
func label(img *gocv.Mat, text string, at image.Point, col color.RGBA, scale float64, thick int, outside bool, b image.Rectangle) {
	font := gocv.FontHersheySimplex
	sz := gocv.GetTextSize(text, font, scale, thick)
	pad := 3
	boxW, boxH := sz.X+2*pad, sz.Y+2*pad+thick*2
	if outside {
		switch {
		case b.Min.Y-boxH >= 0:
			at = image.Pt(b.Min.X, b.Min.Y-boxH)
		case b.Max.Y+boxH <= img.Rows():
			at = image.Pt(b.Min.X, b.Max.Y)
		default:
			at = image.Pt(b.Min.X, b.Min.Y) // on the fill: FillPrivacy erases it; the legend still names it
		}
	}
	at.X = min(max(at.X, 0), max(img.Cols()-boxW, 0))
	at.Y = min(max(at.Y, 0), max(img.Rows()-boxH, 0))
	gocv.Rectangle(img, image.Rect(at.X, at.Y, at.X+boxW, at.Y+boxH), colLabelBg, -1)
	gocv.PutText(img, text, image.Pt(at.X+pad, at.Y+pad+sz.Y), font, scale, col, thick)
}

func toPixels(p zones.Polygon, w, h int) []image.Point {
	pts := make([]image.Point, len(p))
	for i, v := range p {
		pts[i] = image.Pt(int(math.Round(v.X*float64(w-1))), int(math.Round(v.Y*float64(h-1))))
	}
	return pts
}

func bounds(pts []image.Point) image.Rectangle {
	if len(pts) == 0 {
		return image.Rectangle{}
	}
	r := image.Rectangle{Min: pts[0], Max: pts[0]}
	for _, p := range pts[1:] {
		r.Min.X, r.Min.Y = min(r.Min.X, p.X), min(r.Min.Y, p.Y)
		r.Max.X, r.Max.Y = max(r.Max.X, p.X), max(r.Max.Y, p.Y)
	}
	return r
}

// FillPrivacy paints fill (B, G, R) over every pixel the independent checker
// counts as private, so that whatever was drawn there, or whatever a broken
// mask left there, the picture holds no private pixel.
func FillPrivacy(img gocv.Mat, cache *privacycheck.Cache, fill [3]uint8) error {
	if img.Type() != gocv.MatTypeCV8UC3 || !img.IsContinuous() {
		return fmt.Errorf("verify: picture type %v is not continuous 8-bit BGR", img.Type())
	}
	data, err := img.DataPtrUint8()
	if err != nil {
		return err
	}
	px := cache.Get(img.Cols(), img.Rows())
	if len(data) != px.W*px.H*3 {
		return fmt.Errorf("verify: picture holds %d bytes, want %d", len(data), px.W*px.H*3)
	}
	for _, i := range px.Idx {
		o := int(i) * 3
		data[o], data[o+1], data[o+2] = fill[0], fill[1], fill[2]
	}
	return nil
}

// LeakColour marks leaked pixels in a leak map: a signal colour, so a
// marked pixel shows where the picture leaked, never what.
var LeakColour = color.RGBA{R: 255, G: 0, B: 96}

// LeakMap marks the leaked pixels (frame offsets) of img, a sample already
// refilled by FillPrivacy, in the signal colour and outlines their bounds,
// so the report shows where the picture leaked without showing what.
func LeakMap(img gocv.Mat, leaked []int32) error {
	data, err := img.DataPtrUint8()
	if err != nil {
		return err
	}
	w, h := img.Cols(), img.Rows()
	var b image.Rectangle
	for _, i := range leaked {
		o := int(i) * 3
		if o+2 >= len(data) {
			continue
		}
		data[o], data[o+1], data[o+2] = LeakColour.B, LeakColour.G, LeakColour.R
		x, y := int(i)%w, int(i)/w
		b = b.Union(image.Rect(x, y, x+1, y+1))
	}
	if !b.Empty() {
		thick := max(1, w/320)
		gocv.Rectangle(&img, b.Inset(-2*thick).Intersect(image.Rect(0, 0, w, h)), LeakColour, thick)
	}
	return nil
}
