// Command synth generates synthetic test clips with known ground truth: a
// dark, person-like silhouette (head, torso, swinging legs) walking along a
// path over a plain grey background. It writes the clip as H.264 MP4 (frames
// drawn with gocv, encoded by ffmpeg from a raw video pipe) and, beside it, a
// JSON file with the figure's bounding box in every frame in normalised
// coordinates, so motion, detection and tracking tests can score themselves.
//
//	go run ./testvideos/synth -out testvideos/synthetic-walk.mp4
//	go run ./testvideos/synth -size 1280x720 -fps 25 -seconds 4 \
//	    -path '-0.1,0.7;0.5,0.5;1.1,0.7' -out /tmp/enter-leave.mp4
//
// The figure moves at constant speed along the path (a polyline of figure
// centres, normalised) and covers it exactly once over the clip.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"gocv.io/x/gocv"
)

// walk describes one synthetic clip.
type walk struct {
	Width, Height int
	FPS           int
	Seconds       float64
	Path          []point // figure centre, normalised; at least two points
	FigureHeight  float64 // fraction of the frame height
	Background    uint8   // grey level
	Figure        uint8   // grey level of the silhouette
	// Sprite, when set, replaces the drawn silhouette with a person cut out
	// of a real video, so that a HOG people detector finds it.
	Sprite *sprite
}

// point is a normalised position: X and Y in 0..1 inside the frame.
type point struct{ X, Y float64 }

// box is a normalised rectangle with its top-left corner at X, Y.
type box struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// figure is the silhouette's geometry in one frame, in pixels.
type figure struct {
	head       image.Point
	headR      int
	torso      image.Point
	torsoAxes  image.Point
	legs       [2][4]image.Point // quadrilaterals, hip to foot
	minX, maxX int               // exact horizontal extent of all parts
	minY, maxY int
}

func (w walk) frames() int { return int(math.Round(w.Seconds * float64(w.FPS))) }

// pathLength is the polyline's length in pixels.
func (w walk) pathLength() float64 {
	l := 0.0
	for i := 1; i < len(w.Path); i++ {
		l += math.Hypot((w.Path[i].X-w.Path[i-1].X)*float64(w.Width), (w.Path[i].Y-w.Path[i-1].Y)*float64(w.Height))
	}
	return l
}

// at returns the figure centre in pixels after travelling dist pixels.
func (w walk) at(dist float64) (float64, float64) {
	for i := 1; i < len(w.Path); i++ {
		a, b := w.Path[i-1], w.Path[i]
		ax, ay := a.X*float64(w.Width), a.Y*float64(w.Height)
		bx, by := b.X*float64(w.Width), b.Y*float64(w.Height)
		seg := math.Hypot(bx-ax, by-ay)
		if dist <= seg || i == len(w.Path)-1 {
			f := 0.0
			if seg > 0 {
				f = math.Min(dist/seg, 1)
			}
			return ax + f*(bx-ax), ay + f*(by-ay)
		}
		dist -= seg
	}
	p := w.Path[0]
	return p.X * float64(w.Width), p.Y * float64(w.Height)
}

// centreAt returns the figure centre in pixels in frame i.
func (w walk) centreAt(i int) (float64, float64) {
	n := w.frames()
	t := 0.0
	if n > 1 {
		t = float64(i) / float64(n-1)
	}
	return w.at(t * w.pathLength())
}

// figureAt places the silhouette for frame i. The legs swing once per stride
// of half the figure's height, so the box width changes like a walker's.
func (w walk) figureAt(i int) figure {
	n := w.frames()
	t := 0.0
	if n > 1 {
		t = float64(i) / float64(n-1)
	}
	dist := t * w.pathLength()
	cx, cy := w.at(dist)
	h := w.FigureHeight * float64(w.Height)
	top := cy - h/2
	bottom := cy + h/2
	r := 0.09 * h
	swing := 0.12 * h * math.Sin(2*math.Pi*dist/(0.5*h))
	hipY := top + 0.55*h
	legW := 0.08 * h

	var f figure
	f.head = image.Pt(round(cx), round(top+r))
	f.headR = round(r)
	f.torso = image.Pt(round(cx), round(top+0.38*h))
	f.torsoAxes = image.Pt(round(0.13*h), round(0.2*h))
	for k, side := range []float64{-1, 1} {
		hipX := cx + side*0.05*h
		footX := hipX + side*swing
		f.legs[k] = [4]image.Point{
			image.Pt(round(hipX-legW/2), round(hipY)),
			image.Pt(round(hipX+legW/2), round(hipY)),
			image.Pt(round(footX+legW/2), round(bottom)),
			image.Pt(round(footX-legW/2), round(bottom)),
		}
	}
	f.minX = min(f.head.X-f.headR, f.torso.X-f.torsoAxes.X)
	f.maxX = max(f.head.X+f.headR, f.torso.X+f.torsoAxes.X)
	f.minY = f.head.Y - f.headR
	f.maxY = f.head.Y + f.headR
	for _, leg := range f.legs {
		for _, p := range leg {
			f.minX, f.maxX = min(f.minX, p.X), max(f.maxX, p.X)
			f.minY, f.maxY = min(f.minY, p.Y), max(f.maxY, p.Y)
		}
	}
	return f
}

// inFrame reports whether the figure's extent overlaps the frame at all.
func (w walk) inFrame(f figure) bool {
	return f.maxX >= 0 && f.maxY >= 0 && f.minX < w.Width && f.minY < w.Height
}

// painted returns the bounding box of the non-zero pixels of a one-channel
// mask, normalised, and false when there are none. Measuring the drawn
// pixels keeps the truth exact where the figure is cut by the frame edge.
func painted(mask gocv.Mat) (box, bool) {
	cols, rows := mask.Cols(), mask.Rows()
	data := mask.ToBytes()
	x0, y0, x1, y1 := cols, rows, -1, -1
	for y := range rows {
		row := data[y*cols : (y+1)*cols]
		for x, v := range row {
			if v != 0 {
				x0, x1 = min(x0, x), max(x1, x)
				y0, y1 = min(y0, y), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return box{}, false
	}
	W, H := float64(cols), float64(rows)
	return box{
		X: round4(float64(x0) / W), Y: round4(float64(y0) / H),
		W: round4(float64(x1+1-x0) / W), H: round4(float64(y1+1-y0) / H),
	}, true
}

// draw paints the figure onto img.
func (f figure) draw(img *gocv.Mat, grey uint8) {
	c := color.RGBA{grey, grey, grey, 0}
	gocv.Circle(img, f.head, f.headR, c, -1)
	gocv.Ellipse(img, f.torso, f.torsoAxes, 0, 0, 360, c, -1)
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{f.legs[0][:], f.legs[1][:]})
	defer pv.Close()
	gocv.FillPoly(img, pv, c)
}

// truth is the ground truth written beside the clip.
type truth struct {
	Clip        string       `json:"clip"`
	Generator   string       `json:"generator"`
	Width       int          `json:"width"`
	Height      int          `json:"height"`
	FPS         int          `json:"fps"`
	FrameCount  int          `json:"frame_count"`
	Path        []point      `json:"path"`
	SpeedPxPerS float64      `json:"speed_px_per_s"`
	Objects     []object     `json:"objects"`
	Frames      []truthFrame `json:"frames"`
}

type object struct {
	ID   int    `json:"id"`
	Kind string `json:"kind"`
}

type truthFrame struct {
	Index int         `json:"index"`
	PTS   float64     `json:"pts_s"`
	Boxes []objectBox `json:"boxes"`
	// Width and Height are set when the clip changes size (-sizes).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
}

type objectBox struct {
	ID  int `json:"id"`
	Box box `json:"box"`
	// Zones are the config's zones (any kind, any signage) that contain the
	// figure's feet, the bottom centre of its box; only with -config.
	Zones []string `json:"zones,omitempty"`
}

func (p point) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64{p.X, p.Y}) }

// render draws frames [from, to) into enc (raw BGR24) and returns their ground truth.
func (w walk) render(enc io.Writer, from, to int) ([]truthFrame, error) {
	img := gocv.NewMatWithSize(w.Height, w.Width, gocv.MatTypeCV8UC3)
	defer img.Close()
	mask := gocv.NewMatWithSize(w.Height, w.Width, gocv.MatTypeCV8UC1)
	defer mask.Close()
	bg := gocv.NewScalar(float64(w.Background), float64(w.Background), float64(w.Background), 0)
	frames := make([]truthFrame, 0, to-from)
	for i := from; i < to; i++ {
		img.SetTo(bg)
		mask.SetTo(gocv.NewScalar(0, 0, 0, 0))
		if w.Sprite != nil {
			cx, cy := w.centreAt(i)
			size := image.Pt(w.Width, w.Height)
			h := round(w.FigureHeight * float64(w.Height))
			w.Sprite.draw(&img, &mask, cx, cy, h, size)
		} else {
			f := w.figureAt(i)
			f.draw(&img, w.Figure)
			f.draw(&mask, 255)
		}
		tf := truthFrame{Index: i, PTS: round4(float64(i) / float64(w.FPS)), Boxes: []objectBox{}}
		if b, ok := painted(mask); ok {
			tf.Boxes = append(tf.Boxes, objectBox{ID: 1, Box: b})
		}
		frames = append(frames, tf)
		if _, err := enc.Write(img.ToBytes()); err != nil {
			return nil, fmt.Errorf("write frame %d to ffmpeg: %w", i, err)
		}
	}
	return frames, nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	out := fs.String("out", "testvideos/synthetic-walk.mp4", "output clip (H.264 in MP4, or MPEG-TS for a .ts name); ground truth goes to the same name with .json")
	size := fs.String("size", "640x360", "frame size WIDTHxHEIGHT")
	sizes := fs.String("sizes", "", "comma-separated sizes WxH,WxH...: the clip changes resolution mid-stream, equal parts each (written as MPEG-TS, sizes should share an aspect ratio); overrides -size")
	fps := fs.Int("fps", 10, "frames per second")
	seconds := fs.Float64("seconds", 8, "clip length in seconds")
	path := fs.String("path", "0.1,0.6;0.9,0.6", "figure centre waypoints, normalised x,y;x,y;... (may lie outside 0..1 to enter or leave)")
	figH := fs.Float64("figure-height", 0.45, "figure height as a fraction of the frame height")
	bg := fs.Uint("background", 128, "background grey level 0..255")
	fg := fs.Uint("figure", 50, "figure grey level 0..255")
	spriteName := fs.String("sprite", "", "draw a real pedestrian instead of the silhouette: vtest:N cuts person N out of "+vtestPath)
	cfgPath := fs.String("config", "", "edge config `FILE`: annotate each frame with the zones of -camera holding the figure's feet")
	camID := fs.String("camera", "", "camera id in -config")
	crf := fs.Int("crf", 20, "x264 quality (lower is better)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := walk{FPS: *fps, Seconds: *seconds, FigureHeight: *figH, Background: uint8(*bg), Figure: uint8(*fg)}
	var dims []image.Point
	list := *size
	if *sizes != "" {
		list = *sizes
	}
	for _, sz := range strings.Split(list, ",") {
		var d image.Point
		if _, err := fmt.Sscanf(strings.TrimSpace(sz), "%dx%d", &d.X, &d.Y); err != nil || d.X < 16 || d.Y < 16 ||
			d.X%2 != 0 || d.Y%2 != 0 {
			return fmt.Errorf("size %q: want even WIDTHxHEIGHT of at least 16x16, e.g. 640x360", sz)
		}
		dims = append(dims, d)
	}
	w.Width, w.Height = dims[0].X, dims[0].Y
	var err error
	if w.Path, err = parsePath(*path); err != nil {
		return err
	}
	if w.FPS < 1 || w.Seconds <= 0 || w.frames() < len(dims) {
		return errors.New("-fps and -seconds must give at least one frame per size")
	}
	if w.FigureHeight <= 0 || w.FigureHeight > 1 || *bg > 255 || *fg > 255 {
		return errors.New("-figure-height must be in (0,1]; grey levels in 0..255")
	}
	if *spriteName != "" {
		var n int
		if _, err := fmt.Sscanf(*spriteName, "vtest:%d", &n); err != nil {
			return fmt.Errorf("-sprite %q: want vtest:N", *spriteName)
		}
		if w.Sprite, err = loadSprite(vtestPath, n); err != nil {
			return err
		}
		defer w.Sprite.Close()
	}
	var zoneOf func(box) []string
	if *cfgPath != "" {
		if zoneOf, err = zoneAnnotator(*cfgPath, *camID); err != nil {
			return err
		}
	}

	var frames []truthFrame
	if len(dims) == 1 {
		frames, err = w.encode(*out, 0, w.frames(), *crf)
	} else {
		frames, err = w.encodeSizes(*out, dims, *crf)
	}
	if err != nil {
		return err
	}
	if zoneOf != nil {
		for i := range frames {
			for k := range frames[i].Boxes {
				frames[i].Boxes[k].Zones = zoneOf(frames[i].Boxes[k].Box)
			}
		}
	}

	kind := "person-silhouette"
	if w.Sprite != nil {
		kind = "pedestrian cut-out (" + w.Sprite.sourceDescribe + ")"
	}
	gt := truth{
		Clip:        baseName(*out),
		Generator:   strings.TrimSpace("go run ./testvideos/synth " + strings.Join(args, " ")),
		Width:       w.Width,
		Height:      w.Height,
		FPS:         w.FPS,
		FrameCount:  len(frames),
		Path:        w.Path,
		SpeedPxPerS: round4(w.pathLength() / math.Max(float64(w.frames()-1)/float64(w.FPS), 1e-9)),
		Objects:     []object{{ID: 1, Kind: kind}},
		Frames:      frames,
	}
	b, err := json.MarshalIndent(gt, "", " ")
	if err != nil {
		return err
	}
	jsonPath := strings.TrimSuffix(strings.TrimSuffix(*out, ".mp4"), ".ts") + ".json"
	if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s (%d frames)\n", *out, jsonPath, len(frames))
	return nil
}

// encode renders frames [from, to) at w's size into the clip out.
func (w walk) encode(out string, from, to, crf int) ([]truthFrame, error) {
	// No B-frames, so PTS equals DTS; a keyframe every second, so a client
	// joins fast.
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "bgr24", "-s", fmt.Sprintf("%dx%d", w.Width, w.Height),
		"-r", strconv.Itoa(w.FPS), "-i", "-",
		"-c:v", "libx264", "-preset", "medium", "-crf", strconv.Itoa(crf),
		"-g", strconv.Itoa(w.FPS), "-bf", "0", "-pix_fmt", "yuv420p")
	if !strings.HasSuffix(out, ".ts") {
		cmd.Args = append(cmd.Args, "-movflags", "+faststart")
	}
	cmd.Args = append(cmd.Args, "-an", out)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg (install it: apt-get install ffmpeg): %w", err)
	}
	frames, err := w.render(stdin, from, to)
	stdin.Close()
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("ffmpeg: %w", werr)
	}
	return frames, err
}

// encodeSizes renders equal parts of the clip at each size, each part its
// own MPEG-TS (Annex B, parameter sets in band), and joins them with
// ffmpeg's concat demuxer into one stream whose SPS changes mid-way.
func (w walk) encodeSizes(out string, dims []image.Point, crf int) ([]truthFrame, error) {
	if !strings.HasSuffix(out, ".ts") {
		return nil, fmt.Errorf("-sizes writes MPEG-TS: name the output %s.ts", strings.TrimSuffix(out, ".mp4"))
	}
	dir, err := os.MkdirTemp("", "synth-sizes-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var frames []truthFrame
	var list strings.Builder
	n := w.frames()
	for k, d := range dims {
		part := w
		part.Width, part.Height = d.X, d.Y
		from, to := k*n/len(dims), (k+1)*n/len(dims)
		name := fmt.Sprintf("%s/part%d.ts", dir, k)
		fr, err := part.encode(name, from, to, crf)
		if err != nil {
			return nil, err
		}
		for i := range fr {
			fr[i].Width, fr[i].Height = d.X, d.Y
		}
		frames = append(frames, fr...)
		fmt.Fprintf(&list, "file '%s'\n", name)
	}
	listPath := dir + "/list.txt"
	if err := os.WriteFile(listPath, []byte(list.String()), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "concat", "-safe", "0", "-i", listPath, "-c", "copy", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg concat: %w: %s", err, b)
	}
	return frames, nil
}

// parsePath reads "x,y;x,y;...".
func parsePath(s string) ([]point, error) {
	var pts []point
	for _, part := range strings.Split(s, ";") {
		var p point
		if _, err := fmt.Sscanf(strings.TrimSpace(part), "%g,%g", &p.X, &p.Y); err != nil {
			return nil, fmt.Errorf("-path %q: want x,y;x,y with normalised numbers: %w", s, err)
		}
		pts = append(pts, p)
	}
	if len(pts) < 2 {
		return nil, fmt.Errorf("-path %q: want at least two points", s)
	}
	return pts, nil
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func round(v float64) int { return int(math.Round(v)) }

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
