package motion_test

import (
	"context"
	"image"
	"image/color"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/motion"
	"github.com/edgeprivacy/edge/zones"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func rect(x0, y0, x1, y1 float64) zones.Polygon {
	return zones.Polygon{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// leftSet monitors the left half of the view, signed until expires, and
// keeps a privacy zone in its lower left corner.
func leftSet(expires time.Time) *zones.Set {
	return zones.NewSet([]zones.Zone{
		{ID: "left", Kind: zones.Monitored, Polygon: rect(0, 0, 0.5, 1), Signage: "s1"},
		{ID: "locker", Kind: zones.Privacy, Polygon: rect(0, 0.6, 0.3, 1)},
	}, map[string]zones.Sign{"s1": {ID: "s1", VerifiedAt: t0.Add(-time.Hour), ExpiresAt: expires}})
}

const fw, fh = 320, 240

// scene draws a textured background and, if blob is not empty, a white blob.
func scene(blob image.Rectangle) gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(60, 70, 80, 0), fh, fw, gocv.MatTypeCV8UC3)
	for x := 0; x < fw; x += 40 {
		gocv.Line(&m, image.Pt(x, 0), image.Pt(x, fh-1), color.RGBA{120, 120, 120, 0}, 2)
	}
	if !blob.Empty() {
		gocv.Rectangle(&m, blob, color.RGBA{255, 255, 255, 0}, -1)
	}
	return m
}

// blobAt returns a 30x30 blob whose top left is at p.
func blobAt(p image.Point) image.Rectangle {
	return image.Rectangle{Min: p, Max: p.Add(image.Pt(30, 30))}
}

func TestGate(t *testing.T) {
	const n = 30
	still := func(int) image.Rectangle { return image.Rectangle{} }
	moving := func(origin image.Point, dx, dy int) func(int) image.Rectangle {
		return func(i int) image.Rectangle { return blobAt(origin.Add(image.Pt((i%8)*dx, (i%8)*dy))) }
	}
	valid, expired := leftSet(t0.Add(time.Hour)), leftSet(t0.Add(-time.Second))
	tests := []struct {
		name   string
		set    *zones.Set
		cfg    motion.Config
		blob   func(i int) image.Rectangle
		outCap int
		want   motion.Stats
	}{
		{"static scene passes keepalive only", valid, motion.Config{Keepalive: time.Second}, still, n,
			motion.Stats{In: n, Passed: 3, Keepalive: 3, Gated: 27}},
		{"static blob passes keepalive only", valid, motion.Config{Keepalive: time.Second}, func(int) image.Rectangle { return blobAt(image.Pt(40, 40)) }, n,
			motion.Stats{In: n, Passed: 3, Keepalive: 3, Gated: 27}},
		{"blob moving in the signed zone passes", valid, motion.Config{Keepalive: time.Hour}, moving(image.Pt(20, 20), 10, 5), n,
			motion.Stats{In: n, Passed: n, Keepalive: 1}},
		{"frames keep passing for the hangover after motion stops", valid, motion.Config{Keepalive: time.Hour, Hangover: time.Second},
			func(i int) image.Rectangle { return moving(image.Pt(20, 20), 10, 5)(min(i, 9)) }, n,
			// frame 0 by keepalive, 1..9 moving, 10..18 within 1 s of the last motion, 19..29 gated
			motion.Stats{In: n, Passed: 19, Keepalive: 1, Gated: 11}},
		{"blob moving outside the signed zone is gated", valid, motion.Config{Keepalive: time.Hour}, moving(image.Pt(200, 20), 10, 5), n,
			motion.Stats{In: n, Passed: 1, Keepalive: 1, Gated: n - 1}},
		{"blob moving just outside the signed zone is gated", valid, motion.Config{Keepalive: time.Hour}, moving(image.Pt(163, 20), 0, 10), n,
			// 3 px right of the zone's edge at x=160 (analysis pixels are 2 px): the blur must not carry it in.
			motion.Stats{In: n, Passed: 1, Keepalive: 1, Gated: n - 1}},
		{"blob moving in a privacy zone is gated", valid, motion.Config{Keepalive: time.Hour}, moving(image.Pt(5, 160), 5, 5), n,
			motion.Stats{In: n, Passed: 1, Keepalive: 1, Gated: n - 1}},
		{"motion below min area is gated", valid, motion.Config{Keepalive: time.Hour, MinArea: 0.2}, moving(image.Pt(20, 20), 10, 5), n,
			motion.Stats{In: n, Passed: 1, Keepalive: 1, Gated: n - 1}},
		{"expired sign: nothing analysed or passed", expired, motion.Config{Keepalive: time.Second}, moving(image.Pt(20, 20), 10, 5), n,
			motion.Stats{In: n, NoActiveZone: n}},
		{"busy detector: frames dropped, not queued", valid, motion.Config{Keepalive: time.Hour}, moving(image.Pt(20, 20), 10, 5), 0,
			motion.Stats{In: n, Busy: n}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := mask.New(mask.Config{Zones: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			cfg := tc.cfg
			cfg.Zones = tc.set
			cfg.Clock = clock.Live(func() time.Time { now = now.Add(100 * time.Millisecond); return now })
			g, err := motion.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := make(chan *mask.Frame, n)
			for i := 0; i < n; i++ {
				f, err := ms.Apply(decode.Frame{Pic: toYUV(t, scene(tc.blob(i))), Seq: uint64(i)})
				if err != nil {
					t.Fatal(err)
				}
				in <- f
			}
			close(in)
			out := make(chan *mask.Frame, tc.outCap)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := g.Run(ctx, in, out); err != nil {
				t.Fatal(err)
			}
			passed := 0
			for f := range out {
				passed++
				f.Close()
			}
			if got := g.Stats(); got != tc.want || uint64(passed) != got.Passed {
				t.Errorf("stats %+v (%d received), want %+v", got, passed, tc.want)
			}
		})
	}
}

func TestSignExpiresMidStream(t *testing.T) {
	set := leftSet(t0.Add(time.Second))
	ms, _ := mask.New(mask.Config{Zones: set})
	now := t0
	g, err := motion.New(motion.Config{Zones: set, Keepalive: time.Hour,
		Clock: clock.Live(func() time.Time { now = now.Add(100 * time.Millisecond); return now })})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20 // frames 1..9 are before expiry, 10..20 after
	in := make(chan *mask.Frame, n)
	out := make(chan *mask.Frame, n)
	for i := 0; i < n; i++ {
		f, _ := ms.Apply(decode.Frame{Pic: toYUV(t, scene(blobAt(image.Pt(20+(i%6)*10, 20)))), Seq: uint64(i)})
		in <- f
	}
	close(in)
	if err := g.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for f := range out {
		last = f.Seq()
		f.Close()
	}
	if s := g.Stats(); s.Passed != 9 || s.NoActiveZone != 11 || last != 8 {
		t.Errorf("stats %+v, last passed seq %d; want 9 passed (seq 0..8), 11 not analysed", s, last)
	}
}

func TestNewRejects(t *testing.T) {
	set := leftSet(t0)
	for _, cfg := range []motion.Config{
		{},
		{Zones: set, Width: 4},
		{Zones: set, Threshold: 300},
		{Zones: set, MinArea: 2},
		{Zones: set, Keepalive: -time.Second},
	} {
		if _, err := motion.New(cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

func TestCancel(t *testing.T) {
	g, err := motion.New(motion.Config{Zones: leftSet(t0.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan *mask.Frame)
	out := make(chan *mask.Frame, 1)
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, in, out) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run ignored cancellation")
	}
	if _, ok := <-out; ok {
		t.Fatal("out not closed")
	}
}

func TestMaskMat(t *testing.T) {
	am := zones.Rasterize([]zones.Polygon{rect(0.25, 0.25, 0.75, 0.5)}, 16, 8)
	m := motion.MaskMat(am)
	defer m.Close()
	if m.Cols() != 16 || m.Rows() != 8 || m.Type() != gocv.MatTypeCV8U {
		t.Fatalf("mask Mat %dx%d type %v", m.Cols(), m.Rows(), m.Type())
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			want := uint8(0)
			if am.Contains(x, y) {
				want = 255
			}
			if got := m.GetUCharAt(y, x); got != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
	if gocv.CountNonZero(m) != am.Count() || am.Count() == 0 {
		t.Fatalf("%d set pixels, mask has %d", gocv.CountNonZero(m), am.Count())
	}
}

func BenchmarkMotionGate(b *testing.B) {
	const vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
	vc, err := gocv.VideoCaptureFile(vtest)
	if err != nil {
		b.Fatal(err)
	}
	set := zones.NewSet([]zones.Zone{{ID: "floor", Kind: zones.Monitored, Polygon: rect(0, 0.2, 1, 1), Signage: "s1"}},
		map[string]zones.Sign{"s1": {ID: "s1", VerifiedAt: t0.Add(-time.Hour)}})
	ms, _ := mask.New(mask.Config{Zones: set})
	var frames []*mask.Frame
	for range 2 {
		m := gocv.NewMat()
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			b.Fatal("cannot read vtest.avi")
		}
		f, err := ms.Apply(decode.Frame{Pic: toYUV(b, m)})
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, f)
	}
	vc.Close()
	defer func() {
		for _, f := range frames {
			f.Close()
		}
	}()
	g, err := motion.New(motion.Config{Zones: set, Clock: clock.Live(func() time.Time { return t0 })})
	if err != nil {
		b.Fatal(err)
	}
	in := make(chan *mask.Frame)
	out := make(chan *mask.Frame, 1)
	done := make(chan error, 1)
	go func() { done <- g.Run(context.Background(), in, out) }()
	drained := make(chan struct{})
	go func() {
		for f := range out {
			f.Close()
		}
		close(drained)
	}()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		in <- frames[i%2].Ref()
		i++
	}
	close(in)
	<-done
	<-drained
	b.StopTimer()
	if s := g.Stats(); s.In != uint64(i) {
		b.Fatalf("gate saw %d frames, sent %d", s.In, i)
	}
}

// toYUV converts a BGR test picture to the planes decode hands out, and
// closes it.
func toYUV(tb testing.TB, m gocv.Mat) yuv.Picture {
	tb.Helper()
	p, err := yuv.FromBGR(m)
	m.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestGateNotesWhereItMoved: each frame the gate passes for motion carries
// where it moved (frame pixels, covering the blob), inside the signed zone;
// one passed by keepalive carries an empty note.
func TestGateNotesWhereItMoved(t *testing.T) {
	set := leftSet(t0.Add(time.Hour))
	ms, err := mask.New(mask.Config{Zones: set})
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	g, err := motion.New(motion.Config{Zones: set, Keepalive: time.Hour,
		Clock: clock.Live(func() time.Time { now = now.Add(100 * time.Millisecond); return now })})
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	blob := func(i int) image.Rectangle { return blobAt(image.Pt(20+i*8, 30+i*4)) }
	in, out := make(chan *mask.Frame, n), make(chan *mask.Frame, n)
	for i := range n {
		f, err := ms.Apply(decode.Frame{Pic: toYUV(t, scene(blob(i))), Seq: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		in <- f
	}
	close(in)
	if err := g.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	zone := image.Rect(0, 0, fw/2, fh)
	for f := range out {
		rs, ok := f.Motion()
		i := int(f.Seq())
		switch {
		case !ok:
			t.Errorf("frame %d passed without a motion note", i)
		case i == 0 && len(rs) != 0:
			t.Errorf("frame 0 (keepalive, no baseline) noted %v, want nothing", rs)
		case i > 0:
			covered := 0
			for _, r := range rs {
				if !r.In(zone) {
					t.Errorf("frame %d: region %v outside the signed zone %v", i, r, zone)
				}
				covered += r.Intersect(blob(i)).Dx() * r.Intersect(blob(i)).Dy()
			}
			if b := blob(i); covered < b.Dx()*b.Dy()*8/10 {
				t.Errorf("frame %d: regions %v cover %d of the blob %v's %d pixels", i, rs, covered, b, b.Dx()*b.Dy())
			}
		}
		f.Close()
	}
}
