package restream_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/restream"
)

// epochTag is the first bytes of the NAL unit (an SEI by its header, which
// no one here decodes) that the test appends to every unit: its epoch
// follows, so that a viewer can tell which zones a unit was masked with.
var epochTag = []byte{0x06, 'e', 'p', 'o', 'c', 'h'}

// filler is a filler-data NAL unit added to every unit, so that a viewer
// that stops reading has the kernel's buffers and gortsplib's queue
// filled within a fraction of a second (8 KB per unit, 800 KB/s).
var filler = append([]byte{0x0c}, bytes.Repeat([]byte{0xff}, 8<<10)...)

// seen is a unit as a viewer decoded it.
type seen struct {
	epoch byte
	key   bool
	at    time.Time
}

// viewer is a gortsplib client playing a restream path over TCP.
type viewer struct {
	c     *gortsplib.Client
	ended chan error // the session's end, as Wait returns it
	// stall, when set, is received from before each packet once the
	// viewer has decoded stallAfter units: a viewer that stops reading.
	stall      chan struct{}
	stallAfter int

	mu    sync.Mutex
	units []seen
}

func (v *viewer) got() []seen {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]seen(nil), v.units...)
}

// watch connects to url, retrying while the path answers 404 (no stream
// yet), and plays it.
func watch(t *testing.T, url string) *viewer { return watchStalling(t, url, nil, 0) }

// watchStalling is watch with a viewer that stops reading after it has
// decoded after units, until stall is closed.
func watchStalling(t *testing.T, url string, stall chan struct{}, after int) *viewer {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.TransportTCP
	v := &viewer{ended: make(chan error, 1), stall: stall, stallAfter: after}
	var d *description.Session
	for range 250 {
		// A fresh client each time: the server closes the connection of a
		// request it answered 404.
		v.c = &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
		if err = v.c.Start2(); err != nil {
			t.Fatal(err)
		}
		if d, _, err = v.c.Describe(u); err == nil {
			break
		}
		v.c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the path never served its stream: %v", err)
	}
	t.Cleanup(v.c.Close)
	var f *format.H264
	medi := d.FindFormat(&f)
	if medi == nil {
		t.Fatal("no H.264 in the SDP")
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.c.Setup(d.BaseURL, medi, 0, 0); err != nil {
		t.Fatal(err)
	}
	v.c.OnPacketRTP(medi, f, func(pkt *rtp.Packet) {
		if v.stall != nil && len(v.got()) >= v.stallAfter {
			<-v.stall
		}
		nalus, err := dec.Decode(pkt)
		if errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
			return
		}
		if err != nil {
			t.Errorf("viewer: %v", err)
			return
		}
		s := seen{epoch: 0xff, at: time.Now()}
		for _, n := range nalus {
			if h264.NALUType(n[0]&0x1f) == h264.NALUTypeIDR {
				s.key = true
			}
			if len(n) == len(epochTag)+1 && string(n[:len(epochTag)]) == string(epochTag) {
				s.epoch = n[len(epochTag)]
			}
		}
		v.mu.Lock()
		v.units = append(v.units, s)
		v.mu.Unlock()
	})
	if _, err := v.c.Play(nil); err != nil {
		t.Fatal(err)
	}
	go func() { v.ended <- v.c.Wait() }()
	return v
}

// until waits up to 10 s for cond.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// count is how many of units are of epoch e.
func count(units []seen, e byte) int {
	n := 0
	for _, u := range units {
		if u.epoch == e {
			n++
		}
	}
	return n
}

// TestPrivacyChangeDisconnectsViewers: a path fed units stamped by a
// camera's mask epoch, as the mask stage and encoder stamp them, with a
// viewer (a real gortsplib client over loopback). An epoch that keeps the
// zones (a run's end) leaves the viewer playing. A privacy change (Advance
// to new zones, what Camera.Reconfigure does) ends the viewer's session
// before Advance returns, within the bound, so what gortsplib had queued
// to it under the old zones is discarded: the old session never delivers a
// unit of the new zones. A viewer that reconnects gets the new zones'
// stream (which starts at its IDR), and nothing older.
func TestPrivacyChangeDisconnectsViewers(t *testing.T) {
	pts := make([]time.Duration, 30)
	for i := range pts {
		pts[i] = time.Duration(i) * 100 * time.Millisecond
	}
	gop := units(t, pts)

	srv, err := restream.NewServer(restream.ServerConfig{Addr: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	path := srv.Path("lobby")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	in := make(chan media.AccessUnit)
	wg.Add(2)
	go func() { defer wg.Done(); _ = path.Run(ctx, in) }()

	// The feeder stamps each unit as the mask stage does, taking the epoch
	// per picture, and starts again from a keyframe in a new epoch, as the
	// encoder does.
	clock := maskepoch.New("none")
	var fed atomic.Int64 // units handed to the path
	go func() {
		defer wg.Done()
		var last uint64
		i := 0
		for n := 0; ; n++ {
			stamp := clock.Stamp(nil)
			if stamp.Epoch() != last {
				i, last = 0, stamp.Epoch()
			}
			au := gop[i%len(gop)]
			i++
			au.PTS = time.Duration(n) * 10 * time.Millisecond
			au.Mask = stamp
			au.NALUs = append(append([][]byte(nil), au.NALUs...), filler, append(append([]byte(nil), epochTag...), byte(stamp.Epoch())))
			select {
			case in <- au:
				fed.Add(1)
			case <-ctx.Done():
				return
			}
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
	}()

	a := watch(t, srv.URL("lobby"))
	until(t, "the viewer's units of epoch 1", func() bool { return count(a.got(), 1) >= 10 })

	// A new epoch with the same zones (a run ended): no disconnection.
	if e := clock.Advance("none", nil); e != 2 {
		t.Fatalf("epoch %d", e)
	}
	until(t, "the viewer's units of epoch 2", func() bool { return count(a.got(), 2) >= 10 })
	select {
	case err := <-a.ended:
		t.Fatalf("the viewer was disconnected by an epoch that kept the zones: %v", err)
	default:
	}

	// A viewer that stops reading: what it was sent piles up in the
	// kernel's buffers and in its gortsplib queue.
	stall := make(chan struct{})
	slow := watchStalling(t, srv.URL("lobby"), stall, 5)
	release := sync.OnceFunc(func() { close(stall) })
	t.Cleanup(release) // before the client's Close, which waits for its callback
	until(t, "the slow viewer's first units", func() bool { return len(slow.got()) >= 5 })
	stalled := fed.Load()
	time.Sleep(time.Second)
	stalled = fed.Load() - stalled

	// The privacy change.
	start := time.Now()
	if e := clock.Advance("1 zone", nil); e != 3 {
		t.Fatalf("epoch %d", e)
	}
	returned := time.Now()
	if took := returned.Sub(start); took > restream.CloseWait {
		t.Errorf("Advance took %v, over the bound %v", took, restream.CloseWait)
	}
	select {
	case err := <-a.ended:
		t.Logf("the viewer's session ended %v after Advance returned (Advance took %v): %v", time.Since(returned), returned.Sub(start), err)
	case <-time.After(time.Second):
		t.Fatal("the viewer's session is still open 1 s after the privacy change returned")
	}
	late := 0
	for _, u := range a.got() {
		if u.epoch == 2 && u.at.After(returned) {
			late++
		}
	}
	if n := count(a.got(), 3); n != 0 {
		t.Fatalf("the session of before the privacy change delivered %d units of the new zones", n)
	}
	t.Logf("units of the old zones the viewer decoded after Advance returned: %d", late)

	// The slow viewer reads again: what the server had not sent before
	// the change is gone (at most what had reached its own socket is
	// left), and its session ends.
	released := time.Now()
	release()
	select {
	case err := <-slow.ended:
		t.Logf("the slow viewer's session ended %v after it read again: %v", time.Since(released), err)
	case <-time.After(time.Second):
		t.Fatalf("the slow viewer's session is still open 1 s after it read again (%d units decoded)", len(slow.got()))
	}
	if n := count(slow.got(), 3); n != 0 {
		t.Fatalf("the slow viewer's session of before the privacy change delivered %d units of the new zones", n)
	}
	// Without the reset, the kernel would deliver all it held: most of
	// what was sent while the viewer did not read.
	late = len(slow.got()) - 5
	t.Logf("the slow viewer decoded %d units of the old zones after the change, of %d fed while it did not read", late, stalled)
	if late > int(stalled)/2 {
		t.Errorf("the slow viewer decoded %d units of the old zones after the change, of %d fed while it did not read: the backlog was delivered, not discarded", late, stalled)
	}

	b := watch(t, srv.URL("lobby"))
	// A player decodes from the first IDR it gets: wait for one, and more.
	until(t, "the reconnected viewer's IDR and units after it", func() bool {
		got := b.got()
		i := slices.IndexFunc(got, func(u seen) bool { return u.key })
		return i >= 0 && len(got) >= i+15
	})
	for i, u := range b.got() {
		if u.epoch != 3 {
			t.Fatalf("the reconnected viewer's unit %d is of epoch %d, want 3 (the new zones)", i, u.epoch)
		}
	}
}
