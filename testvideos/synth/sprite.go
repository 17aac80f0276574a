package main

import (
	"fmt"
	"image"
	"math"
	"os"
	"slices"

	"gocv.io/x/gocv"
)

// vtestPath is OpenCV's pedestrian clip from Debian's opencv-doc package.
const vtestPath = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

// pedestrian is one person cut out of vtest.avi: a frame number and a
// rectangle holding them and nobody else. OpenCV's HOG people detector (the
// project's default) finds each of them pasted at 140..220 pixels tall on a
// plain grey background, which the drawn silhouette does not achieve.
type pedestrian struct {
	frame int
	rect  image.Rectangle
}

var pedestrians = []pedestrian{
	{100, image.Rect(343, 193, 378, 278)}, // dark coat, walking right
	{100, image.Rect(373, 174, 412, 260)}, // jeans, facing the camera
}

// sprite is a cut-out person: colour pixels and a mask of which are theirs.
type sprite struct {
	img, alpha gocv.Mat // at source resolution
	// scaled copies for the current target height
	h              int
	simg, salpha   gocv.Mat
	scaledOK       bool
	srcW, srcH     int
	sourceDescribe string
}

// loadSprite cuts pedestrian which out of the clip at src. The background is
// the per-pixel median of 30 frames (people move, the campus does not); the
// person's pixels are those differing from it by more than a threshold,
// cleaned by a morphological close.
func loadSprite(src string, which int) (*sprite, error) {
	if which < 0 || which >= len(pedestrians) {
		return nil, fmt.Errorf("-sprite vtest:%d: there are %d pedestrians (0..%d)", which, len(pedestrians), len(pedestrians)-1)
	}
	if _, err := os.Stat(src); err != nil {
		return nil, fmt.Errorf("sprite source %s: %w (install Debian's opencv-doc: bash scripts/deps.sh)", src, err)
	}
	p := pedestrians[which]
	vc, err := gocv.VideoCaptureFile(src)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", src, err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	var samples [][]byte
	person := gocv.NewMat()
	defer person.Close()
	for i := 0; i < 300; i++ {
		if !vc.Read(&m) || m.Empty() {
			return nil, fmt.Errorf("%s: only %d frames, want 300", src, i)
		}
		if i == p.frame {
			r := m.Region(p.rect)
			r.CopyTo(&person)
			r.Close()
		}
		if i%10 == 0 {
			r := m.Region(p.rect)
			c := r.Clone()
			samples = append(samples, c.ToBytes())
			c.Close()
			r.Close()
		}
	}
	bg := make([]byte, len(samples[0]))
	col := make([]byte, len(samples))
	for i := range bg {
		for k := range samples {
			col[k] = samples[k][i]
		}
		slices.Sort(col)
		bg[i] = col[len(col)/2]
	}
	bgm, err := gocv.NewMatFromBytes(p.rect.Dy(), p.rect.Dx(), gocv.MatTypeCV8UC3, bg)
	if err != nil {
		return nil, err
	}
	defer bgm.Close()
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(person, bgm, &diff)
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(diff, &grey, gocv.ColorBGRToGray)
	alpha := gocv.NewMat()
	gocv.Threshold(grey, &alpha, 25, 255, gocv.ThresholdBinary)
	k := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(3, 3))
	defer k.Close()
	gocv.MorphologyEx(alpha, &alpha, gocv.MorphClose, k)
	return &sprite{img: person.Clone(), alpha: alpha, srcW: p.rect.Dx(), srcH: p.rect.Dy(),
		sourceDescribe: fmt.Sprintf("vtest.avi frame %d, rect %v", p.frame, p.rect)}, nil
}

// Close frees the sprite's pictures.
func (s *sprite) Close() {
	s.img.Close()
	s.alpha.Close()
	if s.scaledOK {
		s.simg.Close()
		s.salpha.Close()
	}
}

// draw pastes the sprite, h pixels tall, centred on (cx, cy) into img and
// its mask (255 where the person is) into mask; either may be nil.
func (s *sprite) draw(img, mask *gocv.Mat, cx, cy float64, h int, frame image.Point) {
	if !s.scaledOK || s.h != h {
		if s.scaledOK {
			s.simg.Close()
			s.salpha.Close()
		}
		w := max(1, int(math.Round(float64(s.srcW)*float64(h)/float64(s.srcH))))
		s.simg, s.salpha = gocv.NewMat(), gocv.NewMat()
		gocv.Resize(s.img, &s.simg, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
		gocv.Resize(s.alpha, &s.salpha, image.Pt(w, h), 0, 0, gocv.InterpolationNearestNeighbor)
		s.h, s.scaledOK = h, true
	}
	w := s.simg.Cols()
	at := image.Rect(0, 0, w, h).Add(image.Pt(round(cx-float64(w)/2), round(cy-float64(h)/2)))
	vis := at.Intersect(image.Rect(0, 0, frame.X, frame.Y))
	if vis.Empty() {
		return
	}
	srcR := vis.Sub(at.Min)
	si, sa := s.simg.Region(srcR), s.salpha.Region(srcR)
	defer si.Close()
	defer sa.Close()
	if img != nil {
		d := img.Region(vis)
		si.CopyToWithMask(&d, sa)
		d.Close()
	}
	if mask != nil {
		d := mask.Region(vis)
		sa.CopyToWithMask(&d, sa)
		d.Close()
	}
}
