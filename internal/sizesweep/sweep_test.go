package sizesweep_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/avcodec"
	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/resourceleak"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/motion"
	"github.com/edgeprivacy/edge/stages/snapshot"
	"github.com/edgeprivacy/edge/zones"
)

func TestMain(m *testing.M) { resourceleak.Main(m) }

const maxSmall = 64

// oddLarge are sizes no camera should send but an attacker or a broken
// encoder can.
var oddLarge = [][2]int{{641, 361}, {4097, 2161}, {1, 720}, {720, 1}, {1280, 1}, {100, 1000}, {33, 17}}

// quiet keeps the expected refusals of thousands of sizes out of the test log.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// zoneSet: a privacy zone over the top left quarter and a signed monitored
// zone over the rest of the frame.
func zoneSet() *zones.Set {
	r := func(x0, y0, x1, y1 float64) zones.Polygon {
		return zones.Polygon{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
	}
	zs := []zones.Zone{
		{ID: "desk", Kind: zones.Privacy, Polygon: r(0, 0, 0.5, 0.5)},
		{ID: "floor", Kind: zones.Monitored, Polygon: r(0, 0, 1, 1), Signage: "s1"},
	}
	return zones.NewSet(zs, map[string]zones.Sign{"s1": {ID: "s1", Purpose: "footfall counting",
		VerifiedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}})
}

// streams writes one single-picture H.264 stream per size into dir, named
// WxH.h264: 4:2:0 where both sides are even, 4:4:4 otherwise (4:2:0
// cannot code an odd size). One ffmpeg per width, up to four at a time.
func streams(t *testing.T, dir string, sizes [][2]int) {
	byW := map[int][]int{}
	for _, s := range sizes {
		byW[s[0]] = append(byW[s[0]], s[1])
	}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for w, hs := range byW {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fc := fmt.Sprintf("[0]split=%d", len(hs))
			for i := range hs {
				fc += fmt.Sprintf("[s%d]", i)
			}
			args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=256x256:rate=1"}
			var outs []string
			for i, h := range hs {
				fc += fmt.Sprintf(";[s%d]scale=%d:%d[o%d]", i, w, h, i)
				pf := "yuv444p"
				if w%2 == 0 && h%2 == 0 {
					pf = "yuv420p"
				}
				outs = append(outs, "-map", fmt.Sprintf("[o%d]", i), "-frames:v", "1", "-c:v", "libx264",
					"-preset", "ultrafast", "-pix_fmt", pf, "-f", "h264", filepath.Join(dir, fmt.Sprintf("%dx%d.h264", w, h)))
			}
			args = append(append(args, "-filter_complex", fc), outs...)
			if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("width %d: %v: %s", w, err, out))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("ffmpeg: %s", strings.Join(errs, "\n"))
	}
}

// tally counts, per stage, inputs that went through and inputs refused.
type tally struct {
	ok, refused map[string]int
	examples    map[string]string
	spent       map[string]time.Duration
}

func newTally() *tally {
	return &tally{ok: map[string]int{}, refused: map[string]int{}, examples: map[string]string{}, spent: map[string]time.Duration{}}
}

// timed adds the time since start to stage.
func (t *tally) timed(stage string, start time.Time) { t.spent[stage] += time.Since(start) }

func (t *tally) log(tb testing.TB) {
	spent := map[string]int{}
	for k := range t.spent {
		spent[k] = 1
	}
	for _, k := range sortedKeys(t.ok, t.refused, spent) {
		tb.Logf("%-26s ok %5d  refused %5d  %7v  %s", k, t.ok[k], t.refused[k], t.spent[k].Round(time.Millisecond), t.examples[k])
	}
}

func (t *tally) add(stage string, err error) {
	if err == nil {
		t.ok[stage]++
		return
	}
	t.refused[stage]++
	if _, ok := t.examples[stage]; !ok {
		t.examples[stage] = err.Error()
	}
}

// allSizes is every size 1..64 x 1..64 and the odd large ones.
func allSizes() [][2]int {
	var sizes [][2]int
	for w := 1; w <= maxSmall; w++ {
		for h := 1; h <= maxSmall; h++ {
			sizes = append(sizes, [2]int{w, h})
		}
	}
	return append(sizes, oddLarge...)
}

// decodeSizes samples allSizes for decoding, whose streams cost an x264
// run each: every width 1..64 at a few heights and every height at a few
// widths (narrow rows are where swscale overran), and the odd large ones.
func decodeSizes() [][2]int {
	seen := map[[2]int]bool{}
	var sizes [][2]int
	add := func(s [2]int) {
		if !seen[s] {
			seen[s] = true
			sizes = append(sizes, s)
		}
	}
	for v := 1; v <= maxSmall; v++ {
		for _, o := range []int{1, 2, 17, 64} {
			add([2]int{v, o})
			add([2]int{o, v})
		}
	}
	for _, s := range oddLarge {
		add(s)
	}
	return sizes
}

// TestSizeSweepDecode decodes a stream of each of decodeSizes with
// libavcodec and swscale, and with the decode stage, which must refuse
// exactly what decode.Supported refuses. Reaching the end is the test: a
// size that overran a buffer in C would kill the binary (swscale wrote 42
// bytes past a 2x2 picture before avcodec.BGRSlack).
func TestSizeSweepDecode(t *testing.T) {
	testclip.Need(t)
	sizes := decodeSizes()
	dir := t.TempDir()
	start := time.Now()
	streams(t, dir, sizes)
	t.Logf("%d streams made in %v", len(sizes), time.Since(start).Round(time.Millisecond))
	tl := newTally()
	ms, err := mask.New(mask.Config{Zones: zoneSet(), Color: fill, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	check := privateCheck()
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		name := fmt.Sprintf("%dx%d", w, h)
		frame := decodeOne(t, filepath.Join(dir, name+".h264"), w, h, tl)
		if frame == nil {
			t.Errorf("%s: nothing decoded", name)
			continue
		}
		if got := fmt.Sprintf("%dx%d", frame.Pic.Size().X, frame.Pic.Size().Y); got != name {
			t.Errorf("%s decoded as %s", name, got)
		}
		// The decoded planes (4:4:4 ones converted to 4:2:0) masked: no
		// private pixel left, chroma included.
		f, err := ms.Apply(*frame)
		tl.add("mask decoded", err)
		if err != nil {
			t.Errorf("%s: mask: %v", name, err)
			continue
		}
		tl.add("leak check decoded", leaks(t, f, check))
		f.Close()
	}
	t.Logf("decode: %d sizes, 0 crashes", len(sizes))
	tl.log(t)
	if tl.ok["decode"] != len(sizes) {
		t.Errorf("decoded %d of %d sizes", tl.ok["decode"], len(sizes))
	}
	if tl.ok["leak check decoded"] != len(sizes) {
		t.Errorf("leak-checked %d of %d decoded sizes", tl.ok["leak check decoded"], len(sizes))
	}
}

// TestSizeSweepStages puts a picture of each of allSizes through every
// stage after decode that calls C: mask, motion, the detection stage with
// each detector kind (and each detector on its own), the H.264 encoder and
// JPEG snapshots. Reaching the end is the test; beyond that, masking and
// motion take every size, crops below a detector's window are skipped,
// and the encoder takes every size it can code.
func TestSizeSweepStages(t *testing.T) {
	sizes := allSizes()
	set := zoneSet()
	ms, err := mask.New(mask.Config{Zones: set, Color: fill, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	check := privateCheck()
	dets := map[string]detect.Detector{}
	for _, c := range []detect.Config{
		{Kind: detect.KindHOG},
		{Kind: detect.KindHaar, Model: "/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml"},
		{Kind: detect.KindDNN, Model: "testdata/tiny_ssd.prototxt"},
	} {
		d, err := detect.NewDetector(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Kind, err)
		}
		defer d.Close()
		dets[c.Kind] = d
	}
	stages := map[string]*detect.Stage{}
	for kind, d := range dets {
		st, err := detect.New(detect.Config{Kind: kind, Width: 640, Logger: quiet, Zones: set, Clock: clock.Live(func() time.Time { return t0 }), Detector: keepOpen{d}})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stages[kind] = st
	}
	tl := newTally()
	start := time.Now()
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		name := fmt.Sprintf("%dx%d", w, h)
		at := time.Now()
		f, err := ms.Apply(decode.Frame{Pic: picture(t, w, h), Received: t0})
		tl.timed("mask", at)
		tl.add("mask", err)
		if err != nil {
			t.Errorf("%s: mask: %v", name, err)
			continue
		}
		at = time.Now()
		tl.add("leak check", leaks(t, f, check))
		tl.timed("leak check", at)
		at = time.Now()
		sweepMotion(t, set, f, tl)
		tl.timed("motion", at)
		for kind, st := range stages {
			at = time.Now()
			before := st.Stats().TooSmall
			_, err := st.Process(f)
			tl.add("detect stage/"+kind, err)
			if err != nil {
				t.Errorf("%s: %s stage: %v", name, kind, err)
			}
			if st.Stats().TooSmall != before {
				tl.add("detect stage/"+kind+" small", errors.New("crop below the window, skipped"))
			}
			tl.timed("detect stage/"+kind, at)
			if w > 1280 || h > 1280 {
				continue // the stage scales such frames; whole, they only cost time
			}
			// The detector alone, on the whole frame in the picture it
			// asks for: its own guard.
			at = time.Now()
			whole, err := f.BGR()
			if err != nil {
				t.Fatalf("%s: BGR: %v", name, err)
			}
			if dets[kind].Input() == detect.InputGrey {
				grey, gerr := f.CropGray(image.Rect(0, 0, w, h))
				if gerr != nil {
					t.Fatalf("%s: grey: %v", name, gerr)
				}
				_, err = dets[kind].Detect(grey)
				grey.Close()
			} else {
				_, err = dets[kind].Detect(whole)
			}
			tl.add("detector/"+kind, err)
			if win := dets[kind].Window(); (err == nil) != (w >= win.X && h >= win.Y) {
				t.Errorf("%s: %s detector (window %v): %v", name, kind, win, err)
			}
			tl.timed("detector/"+kind, at)
		}
		at = time.Now()
		sweepEncode(t, f, tl)
		tl.timed("encode", at)
		at = time.Now()
		for _, box := range []*[4]float64{nil, {0.25, 0.25, 0.5, 0.5}, {0.99, 0.99, 0.01, 0.01}} {
			_, err := snapshot.JPEG(f, box, 0.1, 80)
			tl.add("snapshot", err)
		}
		tl.timed("snapshot", at)
		f.Close()
	}
	t.Logf("stages: %d sizes in %v, 0 crashes", len(sizes), time.Since(start).Round(time.Millisecond))
	tl.log(t)
	if tl.refused["mask"] != 0 || tl.refused["motion"] != 0 || tl.ok["leak check"] != len(sizes) {
		t.Errorf("mask or motion refused a size: %v", tl.examples)
	}
	// HOG's 64x128 window fits whole frames of 641x361 and 100x1000 only.
	if tl.ok["detector/hog"] != 2 {
		t.Errorf("HOG ran on %d whole frames, want 2", tl.ok["detector/hog"])
	}
}

// picture is a w x h BGR gradient in YUV 4:2:0 planes; the caller owns it.
func picture(t *testing.T, w, h int) yuv.Picture {
	t.Helper()
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer m.Close()
	if data, err := m.DataPtrUint8(); err == nil {
		for i := range data {
			data[i] = byte(i*13 + i/(3*w))
		}
	}
	p, err := yuv.FromBGR(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fill is the sweep's privacy fill: magenta, far from the gradient and
// from black, and a colour YUV holds only approximately.
var fill = [3]uint8{255, 0, 255}

// privateCheck rasterises the privacy zone of zoneSet independently of the
// zones package (privacycheck's exact per-pixel test).
func privateCheck() *privacycheck.Cache {
	return privacycheck.NewCache([]privacycheck.Polygon{{{0, 0}, {0.5, 0}, {0.5, 0.5}, {0, 0.5}}})
}

// leaks checks a masked frame at pixel level: every private luma pixel and
// the chroma sample it shares hold the fill (conservative chroma rounding,
// odd sizes included), and its BGR conversion shows the fill exactly.
func leaks(t *testing.T, f *mask.Frame, check *privacycheck.Cache) error {
	t.Helper()
	sz := f.Size()
	px := check.Get(sz.X, sz.Y)
	if len(px.Idx) == 0 {
		return fmt.Errorf("%dx%d: no private pixel to check", sz.X, sz.Y)
	}
	pl, err := f.Planes()
	if err != nil {
		return err
	}
	c := yuv.FromBGRColor(fill)
	res, err := privacycheck.CheckPlanes(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride, px, [3]uint8{c.Y, c.U, c.V}, 0)
	if err != nil {
		return err
	}
	if res.Leaked > 0 {
		t.Errorf("%dx%d: %d private pixels with luma or chroma not the fill, first at %v", sz.X, sz.Y, res.Leaked, res.First)
		return fmt.Errorf("%d leaked", res.Leaked)
	}
	shown, err := mask.ShownFill(fill)
	if err != nil {
		return err
	}
	bgr, err := f.BGR()
	if err != nil {
		return err
	}
	data, err := bgr.DataPtrUint8()
	if err != nil {
		return err
	}
	if res, err = privacycheck.Check(data, px, shown, 0); err != nil {
		return err
	}
	if res.Leaked > 0 {
		t.Errorf("%dx%d in BGR: %d private pixels not %v, first at %v", sz.X, sz.Y, res.Leaked, shown, res.First)
		return fmt.Errorf("%d leaked in BGR", res.Leaked)
	}
	return nil
}

// keepOpen lets several stages share one detector for the sweep.
type keepOpen struct{ detect.Detector }

func (keepOpen) Close() error { return nil }

// decodeOne decodes the single picture of the stream at path twice: with
// libavcodec and swscale directly (to get a picture of any size for the
// other stages), and with the decode stage, which must refuse exactly the
// sizes decode.Supported refuses, before converting anything.
func decodeOne(t *testing.T, path string, w, h int, tl *tally) *decode.Frame {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nalus h264.AnnexB
	if err := nalus.Unmarshal(data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}

	d, err := decode.New(decode.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	frames, err := d.DecodeAU(media.AccessUnit{Codec: media.H264, NALUs: nalus, Keyframe: true, Received: t0})
	if err == nil {
		var more []decode.Frame
		more, err = d.Flush()
		frames = append(frames, more...)
	}
	d.Close()
	for _, f := range frames {
		f.Close()
	}
	tl.add("decode stage", err)
	if want := decode.Supported(w, h); (want == nil) != (len(frames) == 1) || (want != nil && !errors.Is(err, decode.ErrUnsupportedSize)) {
		t.Errorf("%dx%d: decode stage gave %d pictures, err %v; Supported says %v", w, h, len(frames), err, want)
	}

	av, err := avcodec.NewDecoder(media.H264, avcodec.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer av.Close()
	if err := av.Send(data, 0); err != nil {
		tl.add("decode", err)
		return nil
	}
	if err := av.Flush(); err != nil {
		tl.add("decode", err)
		return nil
	}
	ok, err := av.Receive()
	if !ok || err != nil {
		tl.add("decode", fmt.Errorf("no picture: %w", err))
		return nil
	}
	// swscale's BGR path, which tools still use, at every size too.
	if err := av.ToBGR(make([]byte, av.BGRSize()), 3*av.Width()); err != nil {
		tl.add("decode", err)
		return nil
	}
	pic, err := yuv.New(av.Width(), av.Height())
	if err != nil {
		tl.add("decode", err)
		return nil
	}
	pl, err := pic.Planes()
	if err == nil {
		err = av.ToI420(pl.Y, pl.YStride, pl.U, pl.V, pl.CStride)
	}
	if err != nil {
		pic.Close()
		tl.add("decode", err)
		return nil
	}
	pl.Pad()
	tl.add("decode", nil)
	return &decode.Frame{Pic: pic, Received: t0}
}

// sweepMotion runs the gate over the frame twice (the second time it has a
// baseline to difference against).
func sweepMotion(t *testing.T, set *zones.Set, f *mask.Frame, tl *tally) {
	t.Helper()
	g, err := motion.New(motion.Config{Logger: quiet, Zones: set, Clock: clock.Live(func() time.Time { return t0 }), Block: true})
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan *mask.Frame, 2), make(chan *mask.Frame, 2)
	in <- f.Ref()
	in <- f.Ref()
	close(in)
	err = g.Run(context.Background(), in, out)
	for p := range out {
		p.Close()
	}
	tl.add("motion", err)
}

// sweepEncode encodes the frame at its own size and scaled to 320 wide.
// libx264 (4:2:0) takes only positive even sizes: the encoder must refuse
// the others before opening it.
func sweepEncode(t *testing.T, f *mask.Frame, tl *tally) {
	t.Helper()
	m, err := f.BGR()
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	for _, outW := range []int{0, 320} {
		if outW >= m.Cols() {
			continue // OutWidth never scales up: the same encoder again
		}
		enc, err := encode.New(encode.Config{Width: m.Cols(), Height: m.Rows(), OutWidth: outW, FPS: 10, BitrateKbps: 2000})
		even := m.Cols()%2 == 0 && m.Rows()%2 == 0
		if even && err != nil {
			t.Errorf("%dx%d: encoder refused an even size: %v", m.Cols(), m.Rows(), err)
		}
		if err == nil {
			_, err = enc.Encode(data, m.Step(), 0)
			if err == nil {
				_, err = enc.Flush()
			}
			enc.Close()
		}
		tl.add(fmt.Sprintf("encode out_width=%d", outW), err)
	}
}

func sortedKeys(ms ...map[string]int) []string {
	seen := map[string]bool{}
	var ks []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}
