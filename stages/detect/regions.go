package detect

import (
	"image"
	"slices"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/stages/mask"
)

// Motion crops: with Config.MotionCrops the detector looks only where the
// motion gate saw the picture change (or, without its note, what changed
// since the frame analysed last) and around the people it found last, not
// at the whole analysis area. A person is found in a crop of a few hundred
// by a few hundred pixels as in the whole area, for a fraction of the
// work. People standing still stay in the crops through the boxes found
// around them; the whole area is analysed again every FullEvery for
// someone who came to a standstill before they were ever found (the
// tracker holds tracks across the gap; a whole look costs as much as
// several crops, so at 1 detection a second, looks every 3 s were most of
// the detector's work).
const (
	// regionWidth is the width luma is differenced at (as the motion gate).
	regionWidth = 160
	// regionThreshold is the luma difference that counts as a change (the
	// motion gate's 25 grey levels, in luma levels).
	regionThreshold = 21
	// regionPadFrac widens a moving area by this fraction of its larger side
	// on each side (and at least an eighth of a crop's least width): a walker's
	// difference covers their outline, not always head to feet.
	regionPadFrac = 0.125
	// boxPadFrac widens a person found in the frame analysed last, for one
	// who has not moved since (sway, the detector's box jitter): one who
	// walked on is in the motion gate's regions. A quarter of their height
	// (a walker's quarter second) gave HOG 35..42% of the whole area's
	// pixels on vtest, an eighth 28..38% and found as many people
	// (TestMotionCropsFindWhatTheWholeAreaFinds, TestMotionCropsFromTheGate).
	boxPadFrac = 0.125
	// wholeAreaFrac: crops that together cover more than this fraction of
	// the analysis area are replaced by the whole area (one call is cheaper
	// than several that overlap it).
	wholeAreaFrac = 0.6
)

// FullEvery is how often, in stream time, a camera detecting on motion
// crops analyses the whole area anyway.
const FullEvery = 30 * time.Second

// regionFinder is one camera's memory for motion crops: the downscaled luma
// of the frame analysed last and the boxes found in it. Only the goroutine
// running the camera's Process touches it.
type regionFinder struct {
	small, prev, diff gocv.Mat
	kernel            gocv.Mat
	boxes             []image.Rectangle // found in the frame analysed last, frame pixels
	lastFull          time.Duration     // PTS of the last whole-area analysis
	haveFull          bool
}

func newRegionFinder() *regionFinder {
	return &regionFinder{small: gocv.NewMat(), prev: gocv.NewMat(), diff: gocv.NewMat(),
		kernel: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(3, 3))}
}

func (r *regionFinder) close() {
	for _, m := range []*gocv.Mat{&r.small, &r.prev, &r.diff, &r.kernel} {
		m.Close()
	}
}

// regions returns the parts of area (frame pixels, the analysis bounds) to
// analyse in f, each at least minSize (frame pixels) where area allows;
// whole is true when the whole area should be analysed instead (no
// baseline, FullEvery passed, a new size, or crops that would cover most of
// it). It keeps f's luma as the next baseline.
func (r *regionFinder) regions(f *mask.Frame, area image.Rectangle, minSize image.Point) (rs []image.Rectangle, whole bool) {
	// The gate's note is what changed since the frame just before: a
	// walker's outline, not the path walked since this camera's last
	// detection. Without one, the change since the frame analysed last.
	raw, ok := f.Motion()
	if ok {
		raw = slices.Clone(raw)
	} else {
		raw, ok = r.changed(f)
	}
	pts := f.PTS()
	if !ok || !r.haveFull || pts < r.lastFull || pts-r.lastFull >= FullEvery {
		r.haveFull, r.lastFull = true, pts
		return nil, true
	}
	for i, b := range append(raw, r.boxes...) {
		frac := regionPadFrac
		if i >= len(raw) {
			frac = boxPadFrac
		}
		pad := max(int(float64(max(b.Dx(), b.Dy()))*frac), minSize.X/8)
		b = grow(b.Inset(-pad), minSize, area)
		if b = b.Intersect(area); !b.Empty() {
			rs = append(rs, b)
		}
	}
	rs = mergeOverlapping(rs)
	covered := 0
	for _, b := range rs {
		covered += b.Dx() * b.Dy()
	}
	if float64(covered) > wholeAreaFrac*float64(area.Dx()*area.Dy()) {
		r.haveFull, r.lastFull = true, pts
		return nil, true
	}
	return rs, false
}

// changed is what changed in f's luma since the frame analysed last, for
// frames without the motion gate's note; ok is false without a baseline
// of f's size. f becomes the baseline.
func (r *regionFinder) changed(f *mask.Frame) (raw []image.Rectangle, ok bool) {
	sz := f.Size()
	small := image.Pt(min(regionWidth, sz.X), max(1, (sz.Y*min(regionWidth, sz.X)+sz.X/2)/sz.X))
	gocv.Resize(f.Luma(), &r.small, small, 0, 0, gocv.InterpolationArea)
	defer func() { r.small, r.prev = r.prev, r.small }()
	if r.prev.Empty() || r.prev.Cols() != small.X || r.prev.Rows() != small.Y {
		return nil, false
	}
	gocv.AbsDiff(r.small, r.prev, &r.diff)
	gocv.Threshold(r.diff, &r.diff, regionThreshold, 255, gocv.ThresholdBinary)
	gocv.Dilate(r.diff, &r.diff, r.kernel)
	sx, sy := float64(sz.X)/float64(small.X), float64(sz.Y)/float64(small.Y)
	if gocv.CountNonZero(r.diff) > 0 {
		cs := gocv.FindContours(r.diff, gocv.RetrievalExternal, gocv.ChainApproxSimple)
		for i := range cs.Size() {
			b := gocv.BoundingRect(cs.At(i))
			raw = append(raw, image.Rect(int(float64(b.Min.X)*sx), int(float64(b.Min.Y)*sy),
				int(float64(b.Max.X)*sx+0.999), int(float64(b.Max.Y)*sy+0.999)))
		}
		cs.Close()
	}
	return raw, true
}

// found remembers the boxes of the frame just analysed, for the next
// frame's crops.
func (r *regionFinder) found(boxes []image.Rectangle) { r.boxes = append(r.boxes[:0], boxes...) }

// grow widens b about its centre to at least minSize, then moves it inside
// area as far as area allows.
func grow(b image.Rectangle, minSize image.Point, area image.Rectangle) image.Rectangle {
	if d := minSize.X - b.Dx(); d > 0 {
		b.Min.X -= d / 2
		b.Max.X += d - d/2
	}
	if d := minSize.Y - b.Dy(); d > 0 {
		b.Min.Y -= d / 2
		b.Max.Y += d - d/2
	}
	shift := func(lo, hi, alo, ahi int) (int, int) {
		if lo < alo {
			hi, lo = min(hi+alo-lo, ahi), alo
		}
		if hi > ahi {
			lo, hi = max(lo-(hi-ahi), alo), ahi
		}
		return lo, hi
	}
	b.Min.X, b.Max.X = shift(b.Min.X, b.Max.X, area.Min.X, area.Max.X)
	b.Min.Y, b.Max.Y = shift(b.Min.Y, b.Max.Y, area.Min.Y, area.Max.Y)
	return b
}

// mergeOverlapping replaces rectangles that overlap by their union until
// none do, so that no pixel is analysed twice and no person is cut in two
// by the edge of one crop inside another.
func mergeOverlapping(rs []image.Rectangle) []image.Rectangle {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(rs) && !merged; i++ {
			for j := i + 1; j < len(rs); j++ {
				if rs[i].Overlaps(rs[j]) {
					rs[i] = rs[i].Union(rs[j])
					rs = append(rs[:j], rs[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return rs
}
