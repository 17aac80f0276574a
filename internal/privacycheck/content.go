package privacycheck

import (
	"fmt"
	"image"
	"math"
	"slices"
)

// The content test judges lossy recordings, where the fill is never exact.
// It asks whether a zone shows any picture, not how far its pixels are from
// the fill colour: a semi-opaque fill is close to the fill colour everywhere
// and still shows the scene after a brightness curve.
//
// Measured on x264 at CRF 18-30 (320x240, 2 px margin and none, see
// docs/verify.md): an honest fill decodes exactly flat from 7 px inside its
// border on; nearer the border, ringing moves a pixel by at most 0.12 of the
// largest contrast between the fill and the picture within 8 px outside. A
// leak continues the picture: the same ratio is 1 or more.
const (
	// CoreDepth is how far (px) inside a zone's border codec ringing from the
	// outside picture may reach; from there on the fill must be flat.
	CoreDepth = 8
	// RingRatio is the largest deviation from the fill, as a fraction of the
	// neighbouring outside contrast, that counts as ringing (4x the measured
	// 0.12).
	RingRatio = 0.5
	// MinStructure is the fewest pixels showing structure (not beyond a hard
	// bound) that make a zone leak in one frame: x264 at CRF 23 leaves up to
	// 8 isolated pixels of ringing beside a moving person; a 2 px leak along
	// a 40 px edge is 80.
	MinStructure = 16
	// FillTolerance is how far (levels, any channel) the fill a recording
	// shows may be from the configured colour, and how far any pixel of a
	// zone's core may be from it.
	FillTolerance = 24
	// HardBound is the deviation (levels, any channel) no pixel of a zone may
	// have whatever its neighbourhood, except on the border row, where 4:2:0
	// chroma of a saturated fill (magenta) swings further: there the
	// edge-aware luma test decides.
	HardBound = 96
	// MinNoise and MaxNoise bound the structure threshold (luma levels) that
	// the noise estimate sets: a flat fill gives MinNoise; a noisy one cannot
	// buy more than MaxNoise.
	MinNoise = 1
	MaxNoise = 4
	// exactSlack is the luma difference (levels) a lossless fill may show:
	// the decoder's YUV to BGR conversion rounds, and bleeds chroma across
	// the zone's edge (up to 11 levels per channel measured on lossless
	// 4:4:4 input).
	exactSlack = 2
	// noiseBlock is the block size of the noise estimate.
	noiseBlock = 8
)

// Geometry is the shape of every privacy zone at one frame size, ready for
// the content test. Zones are rasterised each on its own (Region); the
// outside of a zone is every pixel of no zone, since another zone's pixels
// are fill too.
type Geometry struct {
	W, H  int
	Zones []ZoneGeometry
	union []bool
}

// ZoneGeometry is one zone's pixels with their depth inside the zone.
type ZoneGeometry struct {
	Pixels Pixels
	// Depth[i] is the chessboard distance (px) of Pixels.Idx[i] to the
	// nearest pixel outside every zone, minus one (0 on the border), capped
	// at CoreDepth. The frame's own edge is not outside: nothing continues
	// there.
	Depth []uint8
	// Core counts pixels at CoreDepth.
	Core   int
	bounds image.Rectangle // of the zone grown by CoreDepth, clipped
	core   []bool          // frame-sized: pixel at CoreDepth
}

// NewGeometry rasterises each polygon at w x h.
func NewGeometry(polys []Polygon, w, h int) *Geometry {
	g := &Geometry{W: w, H: h, union: make([]bool, w*h)}
	for _, p := range polys {
		px := Region([]Polygon{p}, w, h)
		for _, i := range px.Idx {
			g.union[i] = true
		}
		g.Zones = append(g.Zones, ZoneGeometry{Pixels: px})
	}
	// Depth by repeated erosion of the union, CoreDepth steps (chessboard).
	depth := make([]uint8, w*h)
	cur := slices.Clone(g.union)
	for d := 1; d <= CoreDepth; d++ {
		next := make([]bool, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !cur[y*w+x] {
					continue
				}
				ok := true
				for dy := -1; dy <= 1 && ok; dy++ {
					for dx := -1; dx <= 1 && ok; dx++ {
						xx, yy := x+dx, y+dy
						if xx < 0 || yy < 0 || xx >= w || yy >= h {
							continue
						}
						ok = cur[yy*w+xx]
					}
				}
				if ok {
					next[y*w+x] = true
					depth[y*w+x] = uint8(d)
				}
			}
		}
		cur = next
	}
	for zi := range g.Zones {
		z := &g.Zones[zi]
		z.Depth = make([]uint8, len(z.Pixels.Idx))
		z.core = make([]bool, w*h)
		b := image.Rectangle{}
		for k, i := range z.Pixels.Idx {
			z.Depth[k] = depth[i]
			if depth[i] == CoreDepth {
				z.Core++
				z.core[i] = true
			}
			x, y := int(i)%w, int(i)/w
			b = b.Union(image.Rect(x, y, x+1, y+1))
		}
		z.bounds = b.Inset(-CoreDepth).Intersect(image.Rect(0, 0, w, h))
	}
	return g
}

// ContentResult is what the content test found in one zone of one frame.
type ContentResult struct {
	Checked  int // zone pixels judged (all of them)
	Leaked   int // pixels that show picture (spatial or temporal)
	Spatial  int // of them, judged on this frame alone
	Temporal int // core pixels that changed since the previous frame beyond the noise
	Hard     int // pixels beyond HardBound or FillTolerance
	// Below counts structure pixels in a frame with fewer than MinStructure
	// of them and none beyond a hard bound: isolated codec ringing, not a leak.
	Below int
	Exact bool     // every pixel within exactSlack of the estimated fill: a lossless flat fill
	Fill  [3]uint8 // fill estimated from the zone (B, G, R), median of its core
	Noise float64  // structure threshold used (luma levels)
	// MaxDeviation is the largest difference (levels, any channel) of a
	// zone pixel from the estimated fill.
	MaxDeviation int
	First        image.Point
	Mask         []int32 // frame offsets of leaked pixels (for the leak map)
}

// Content judges zone zi of a packed BGR frame; prev is the previous frame
// of the same size (nil for the first), for the temporal test. The fill is
// estimated from the zone itself (a codec shifts colours a little); it must
// lie within FillTolerance of the configured fill (B, G, R), or every pixel
// farther than that from the configured fill is a leak: an unmasked flat
// wall shows no structure but is not masked.
func (g *Geometry) Content(zi int, bgr, prev []byte, fill [3]uint8) (ContentResult, error) {
	if len(bgr) != g.W*g.H*3 || (prev != nil && len(prev) != len(bgr)) {
		return ContentResult{}, fmt.Errorf("privacycheck: picture has %d bytes, want %dx%dx3", len(bgr), g.W, g.H)
	}
	z := &g.Zones[zi]
	r := ContentResult{Checked: len(z.Pixels.Idx), First: image.Pt(-1, -1), Exact: true}
	if r.Checked == 0 {
		return r, nil
	}
	w := g.W
	luma := func(b []byte, i int) float64 {
		return 0.114*float64(b[3*i]) + 0.587*float64(b[3*i+1]) + 0.299*float64(b[3*i+2])
	}
	// The fill as the codec rendered it: per channel median of the core (of
	// the whole zone when it has no core).
	var hist [3][256]int
	n := 0
	for k, i := range z.Pixels.Idx {
		if z.Core > 0 && z.Depth[k] < CoreDepth {
			continue
		}
		o := int(i) * 3
		for c := range 3 {
			hist[c][bgr[o+c]]++
		}
		n++
	}
	for c := range 3 {
		acc := 0
		for v := range 256 {
			acc += hist[c][v]
			if 2*acc >= n {
				r.Fill[c] = uint8(v)
				break
			}
		}
	}
	offColour := false
	for c := range 3 {
		offColour = offColour || absDiff(r.Fill[c], fill[c]) > FillTolerance
	}
	fy := 0.114*float64(r.Fill[0]) + 0.587*float64(r.Fill[1]) + 0.299*float64(r.Fill[2])

	// Luma minus the fill's, once for the grown bounds: every test below
	// reads it.
	b := z.bounds
	bw, bh := b.Dx(), b.Dy()
	ly := make([]float32, bw*bh)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := ly[(y-b.Min.Y)*bw:]
		for x := b.Min.X; x < b.Max.X; x++ {
			row[x-b.Min.X] = float32(luma(bgr, y*w+x) - fy)
		}
	}
	r.Noise = g.noise(z, ly)

	// Outside contrast: for each pixel of the grown bounds, the largest
	// |luma - fill| of any pixel outside every zone within CoreDepth
	// (separable max filter).
	dev := make([]float32, bw*bh)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if i := y*w + x; !g.union[i] {
				k := (y-b.Min.Y)*bw + x - b.Min.X
				dev[k] = float32(math.Abs(float64(ly[k])))
			}
		}
	}
	tmp := make([]float32, bw*bh)
	dilate(tmp, dev, bh, bw, bw, 1) // along rows
	dilate(dev, tmp, bw, bh, 1, bw) // along columns

	for k, i := range z.Pixels.Idx {
		o := int(i) * 3
		r.MaxDeviation = max(r.MaxDeviation, int(absDiff(bgr[o], r.Fill[0])), int(absDiff(bgr[o+1], r.Fill[1])), int(absDiff(bgr[o+2], r.Fill[2])))
		x, y := int(i)%w, int(i)/w
		bk := (y-b.Min.Y)*bw + x - b.Min.X
		e := math.Abs(float64(ly[bk]))
		if e > exactSlack {
			r.Exact = false
		}
		c := float64(dev[bk])
		hard := false
		for ch := range 3 {
			if (z.Depth[k] > 0 && absDiff(bgr[o+ch], r.Fill[ch]) > HardBound) ||
				((offColour || z.Depth[k] == CoreDepth) && absDiff(bgr[o+ch], fill[ch]) > FillTolerance) {
				hard = true
			}
		}
		spatial := hard || (e >= r.Noise && e > RingRatio*c)
		temporal := false
		if !spatial && prev != nil && z.Depth[k] == CoreDepth {
			temporal = math.Abs(float64(ly[bk])+fy-luma(prev, int(i))) >= r.Noise
		}
		if hard {
			r.Hard++
		}
		if spatial {
			r.Spatial++
		}
		if temporal {
			r.Temporal++
		}
		if spatial || temporal {
			if len(r.Mask) == 0 {
				r.First = image.Pt(x, y)
			}
			r.Mask = append(r.Mask, i)
		}
	}
	if r.Hard > 0 || len(r.Mask) >= MinStructure {
		r.Leaked = len(r.Mask)
	} else {
		r.Mask, r.First = nil, image.Pt(-1, -1)
		r.Below = r.Spatial + r.Temporal
		r.Spatial, r.Temporal = 0, 0
	}
	return r, nil
}

// noise estimates the codec noise of the fill in this frame: three times
// the 10th percentile of the luma spread of the core's 8x8 blocks, within
// [MinNoise, MaxNoise]. The flattest blocks stand for the fill; a scene
// showing through raises only the blocks it covers.
func (g *Geometry) noise(z *ZoneGeometry, ly []float32) float64 {
	w := g.W
	var spreads []float64
	b := z.bounds
	for y0 := b.Min.Y; y0+noiseBlock <= b.Max.Y; y0 += noiseBlock {
		for x0 := b.Min.X; x0+noiseBlock <= b.Max.X; x0 += noiseBlock {
			var s, ss float64
			full := true
			for y := y0; y < y0+noiseBlock && full; y++ {
				for x := x0; x < x0+noiseBlock; x++ {
					i := y*w + x
					if !z.core[i] {
						full = false
						break
					}
					v := float64(ly[(y-b.Min.Y)*b.Dx()+x-b.Min.X])
					s += v
					ss += v * v
				}
			}
			if full {
				m := s / (noiseBlock * noiseBlock)
				spreads = append(spreads, math.Sqrt(max(0, ss/(noiseBlock*noiseBlock)-m*m)))
			}
		}
	}
	if len(spreads) == 0 {
		return MinNoise
	}
	slices.Sort(spreads)
	return min(max(3*spreads[len(spreads)/10], MinNoise), MaxNoise)
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// dilate is one pass of the separable max filter: each value of dst is the
// largest of src within CoreDepth steps along a line. There are lines lines
// of n values; value j of line i is at i*lineStride + j*step.
func dilate(dst, src []float32, lines, n, lineStride, step int) {
	for i := range lines {
		base := i * lineStride
		for j := range n {
			m := float32(0)
			for d := max(0, j-CoreDepth); d <= min(n-1, j+CoreDepth); d++ {
				m = max(m, src[base+d*step])
			}
			dst[base+j*step] = m
		}
	}
}
