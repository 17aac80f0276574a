package detect_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/internal/clock"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// frames returns n small masked frames with Seq 0..n-1; the caller owns them.
func frames(tb testing.TB, n int) []*mask.Frame {
	tb.Helper()
	mats := make([]gocv.Mat, n)
	for i := range mats {
		mats[i] = gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3)
	}
	return masked(tb, zones.NewSet(nil, nil), mats)
}

// TestPoolSchedulesFairly drives the scheduler by hand (no workers, no
// timing): three cameras submit at 3, 1 and 1/2 frames per round, the pool
// serves two requests a round. Every camera must be served; each serve must
// go to the next camera round the ring (join order) after the one served
// last that has a request, so nobody is served twice while another waits;
// and a camera's served frame must be the newest it submitted (newest
// wins, the replaced ones skipped and closed).
func TestPoolSchedulesFairly(t *testing.T) {
	const rounds = 30
	p, _ := detect.NewPool(1)
	defer p.Close()
	type served struct {
		cam string
		seq uint64
	}
	var log []served
	clients := map[string]*detect.Client{}
	for _, name := range []string{"fast", "steady", "slow"} {
		c, err := p.Join(name, func(f *mask.Frame) {
			log = append(log, served{name, f.Seq()})
			f.Close()
		})
		if err != nil {
			t.Fatal(err)
		}
		clients[name] = c
	}
	rate := map[string]func(r int) int{
		"fast":   func(int) int { return 3 },
		"steady": func(int) int { return 1 },
		"slow":   func(r int) int { return 1 - r%2 },
	}
	ring := []string{"fast", "steady", "slow"}
	newest := map[string]uint64{}    // last seq submitted
	waiting := map[string]bool{}     // has a request not yet served
	submitted := map[string]uint64{} // frames per camera
	seq := map[string]uint64{}       // next seq per camera
	last := len(ring) - 1            // ring index served last
	for r := range rounds {
		for _, name := range []string{"fast", "steady", "slow"} {
			for range rate[name](r) {
				fs := frames(t, int(seq[name])+1)
				for _, f := range fs[:len(fs)-1] {
					f.Close()
				}
				f := fs[len(fs)-1] // Seq is seq[name]
				seq[name]++
				submitted[name]++
				newest[name] = f.Seq()
				waiting[name] = true
				clients[name].Submit(f)
			}
		}
		for range 2 {
			// The next waiting camera round the ring must be next.
			want := ""
			for i := 1; i <= len(ring) && want == ""; i++ {
				if k := (last + i) % len(ring); waiting[ring[k]] {
					want, last = ring[k], k
				}
			}
			before := len(log)
			if !p.Serve() {
				if want != "" {
					t.Fatalf("round %d: nothing served while %s waits", r, want)
				}
				continue
			}
			got := log[before]
			if got.cam != want {
				t.Fatalf("round %d: served %s, want %s (next round the ring with a request)", r, got.cam, want)
			}
			if got.seq != newest[got.cam] {
				t.Fatalf("round %d: %s served frame %d, newest is %d", r, got.cam, got.seq, newest[got.cam])
			}
			delete(waiting, got.cam)
		}
	}
	for p.Serve() {
	}
	count := map[string]int{}
	for _, s := range log {
		count[s.cam]++
	}
	for name, c := range clients {
		st := c.Stats()
		if count[name] == 0 {
			t.Errorf("%s was never served", name)
		}
		if st.Requested != submitted[name] || st.Served != uint64(count[name]) || st.Requested != st.Served+st.Skipped {
			t.Errorf("%s: stats %+v, submitted %d, served %d; want requested = served + skipped", name, st, submitted[name], count[name])
		}
		t.Logf("%s: %+v", name, st)
	}
	// Two serves a round among three cameras that all want one: each gets
	// about two thirds of the rounds, the fast one no more than the others.
	if count["fast"] > count["steady"]+1 {
		t.Errorf("fast camera served %d times, steady %d: submitting more must not buy more", count["fast"], count["steady"])
	}
	for _, c := range clients {
		c.Leave()
	}
}

// TestPoolLeaveDropsPending: a camera that leaves has its pending frame
// closed and counted, and later submits are refused the same way.
func TestPoolLeaveDropsPending(t *testing.T) {
	p, _ := detect.NewPool(1)
	defer p.Close()
	ran := 0
	c, err := p.Join("cam", func(f *mask.Frame) { ran++; f.Close() })
	if err != nil {
		t.Fatal(err)
	}
	fs := frames(t, 3)
	c.Submit(fs[0])
	c.Submit(fs[1]) // replaces 0
	c.Leave()
	c.Submit(fs[2]) // after leaving
	if p.Serve() || ran != 0 {
		t.Fatalf("served %d after Leave", ran)
	}
	if st := c.Stats(); st.Requested != 3 || st.Skipped != 3 || st.Served != 0 {
		t.Fatalf("stats %+v, want 3 requested, 3 skipped", st)
	}
	p.Close()
	if _, err := p.Join("late", func(f *mask.Frame) { f.Close() }); err == nil {
		t.Fatal("joined a closed pool")
	}
}

// TestPoolWorkers runs real workers: cameras submitting from their own
// goroutines, a camera's job never on two workers at once, every frame
// closed once (the mask frame panics on a second close; matprofile counts
// the rest).
func TestPoolWorkers(t *testing.T) {
	p, _ := detect.NewPool(2)
	p.Start()
	defer p.Close()
	const cams, each = 4, 40
	var wg sync.WaitGroup
	var clients []*detect.Client
	for i := range cams {
		var busy atomic.Int32
		c, err := p.Join(fmt.Sprint("cam", i), func(f *mask.Frame) {
			if busy.Add(1) != 1 {
				t.Error("a camera's job ran on two workers at once")
			}
			f.Close()
			busy.Add(-1)
		})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		fs := frames(t, each)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range fs {
				c.Submit(f)
			}
		}()
	}
	wg.Wait()
	for _, c := range clients {
		// Each camera's last frame stays pending until a worker takes it.
		for deadline := time.Now().Add(10 * time.Second); c.Stats().Served+c.Stats().Skipped < each; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v: the last frame was never served", c.Name(), c.Stats())
			}
			time.Sleep(time.Millisecond)
		}
		c.Leave()
		st := c.Stats()
		if st.Requested != each || st.Served+st.Skipped != each || st.Served == 0 {
			t.Errorf("%s: %+v", c.Name(), st)
		}
	}
}

func TestNewPoolRefusesNoWorkers(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := detect.NewPool(n); err == nil {
			t.Errorf("a pool of %d workers was made", n)
		}
	}
}

// TestStageOnPool: a stage given a pool submits every frame there and sends
// the result of the one served; frames replaced while no worker was free
// give no result and are counted skipped.
func TestStageOnPool(t *testing.T) {
	p, _ := detect.NewPool(1) // not started: the test serves by hand
	defer p.Close()
	set := floorSet(rect(0, 0, 1, 1), t0.Add(time.Hour))
	rec := &recorder{}
	st, err := detect.New(detect.Config{Zones: set, Detector: rec, Width: 640, Pool: p, Name: "lobby",
		Clock: clock.Live(func() time.Time { return t0 })})
	if err != nil {
		t.Fatal(err)
	}
	fs := frames(t, 3)
	in, out := make(chan *mask.Frame, 3), make(chan detect.Result, 3)
	for _, f := range fs {
		in <- f
	}
	errc := make(chan error, 1)
	go func() { errc <- st.Run(context.Background(), in, out) }()
	for deadline := time.Now().Add(10 * time.Second); st.Stats().Pool.Requested < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("the stage submitted %d of 3 frames", st.Stats().Pool.Requested)
		}
		time.Sleep(time.Millisecond)
	}
	if !p.Serve() || p.Serve() {
		t.Fatal("want exactly one request to serve")
	}
	close(in)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	var res []detect.Result
	for r := range out {
		res = append(res, r)
	}
	if len(res) != 1 || res[0].Seq != 2 {
		t.Fatalf("results %+v, want one, for the newest frame 2", res)
	}
	if s := st.Stats(); s.Pool != (detect.PoolStats{Requested: 3, Served: 1, Skipped: 2}) || s.Analysed != 1 {
		t.Fatalf("stats %+v", s)
	}
	if rec.closed != 1 {
		t.Fatalf("detector closed %d times, want once when Run returned", rec.closed)
	}
}
