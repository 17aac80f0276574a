package integration_test

import (
	"context"
	"errors"
	"image"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// TestServerRestart stops the replay server under a playing client and
// starts a new one on the same address: decoded frames must resume within
// 5 s of its return, with ingest's default reconnect backoff.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	needFile(t, syntheticClip)
	serve := func(addr string) *replay.Server {
		t.Helper()
		srv, err := replay.New(replay.Config{Addr: addr, Paths: []string{syntheticClip}})
		if err != nil {
			t.Fatal(err)
		}
		// The port was ours a moment ago; allow the kernel a moment too.
		for try := 0; ; try++ {
			if err = srv.Start(); err == nil || try == 20 {
				break
			}
			srv.Close()
			time.Sleep(100 * time.Millisecond)
			if srv, err = replay.New(replay.Config{Addr: addr, Paths: []string{syntheticClip}}); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil {
			t.Fatalf("restart on %s: %v", addr, err)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	srv := serve("127.0.0.1:0")
	addr := srv.Addr()
	p := startPipe(t, ingest.Config{URL: "rtsp://" + addr + "/synthetic-walk"})
	for range 5 {
		f := p.next(t, 10*time.Second)
		f.Close()
	}

	srv.Close()
	down := time.Now()
	// Keep reading while the camera is away, as the pipeline would, so
	// frames already in flight do not count as resumed ones.
	for time.Since(down) < 1500*time.Millisecond {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatalf("decode output closed while the server was down; %s", p.status())
			}
			f.Close()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if st := p.ing.State(); st.Status == ingest.StatusStreaming {
		t.Errorf("ingest still says %q 1.5 s after the server went away", st.Status)
	}

	serve(addr)
	up := time.Now()
	var resumed time.Duration
	for deadline := up.Add(15 * time.Second); resumed == 0; {
		f := p.next(t, time.Until(deadline))
		if f.Received.After(up) {
			resumed = time.Since(up)
		}
		f.Close()
	}
	st := p.ing.Stats()
	t.Logf("frames resumed %v after the server came back (down for %v); reconnects %d",
		resumed.Round(time.Millisecond), up.Sub(down).Round(time.Millisecond), st.Reconnects)
	if resumed > 5*time.Second {
		t.Errorf("frames resumed %v after the server came back, want within 5 s", resumed)
	}
	if st.Reconnects == 0 {
		t.Errorf("no reconnect counted; %s", p.status())
	}
}

// garbageCamera is an RTSP server that streams a real H.264 clip at 25 fps
// and, for access units [from, to), inserts RTP packets with random
// payloads between them and replaces some of their payloads with random
// bytes. It then streams clean video again.
type garbageCamera struct {
	server   *gortsplib.Server
	stream   *gortsplib.ServerStream
	media    *description.Media
	aus      [][][]byte
	from, to int
	clean    atomic.Int64 // unix nanoseconds when clean video resumed
	done     chan struct{}
	wg       sync.WaitGroup
	ready    sync.RWMutex // holds requests back until the stream exists
}

func startGarbageCamera(t *testing.T, aus [][][]byte, from, to int) *garbageCamera {
	t.Helper()
	var sps, pps []byte
	for _, n := range aus[0] {
		switch n[0] & 0x1f {
		case 7:
			sps = n
		case 8:
			pps = n
		}
	}
	if sps == nil || pps == nil {
		t.Fatal("first access unit of the clip has no SPS/PPS")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &garbageCamera{aus: aus, from: from, to: to, done: make(chan struct{})}
	c.ready.Lock()
	defer c.ready.Unlock()
	c.server = &gortsplib.Server{
		Handler:     c,
		RTSPAddress: ln.Addr().String(),
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if err := c.server.Start(); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	forma := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	c.media = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	c.stream = &gortsplib.ServerStream{Server: c.server, Desc: &description.Session{Medias: []*description.Media{c.media}}}
	if err := c.stream.Initialize(); err != nil {
		c.server.Close()
		t.Fatal(err)
	}
	enc, err := forma.CreateEncoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	c.wg.Add(1)
	go c.run(t, enc)
	return c
}

func (c *garbageCamera) url() string { return "rtsp://" + c.server.RTSPAddress + "/cam" }

func (c *garbageCamera) run(t *testing.T, enc interface {
	Encode([][]byte) ([]*rtp.Packet, error)
}) {
	defer c.wg.Done()
	// Seeded, so a failure can be replayed.
	rng := rand.New(rand.NewPCG(3, 7))
	random := func() []byte {
		b := make([]byte, 1+rng.IntN(1200))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	for n := 0; ; n++ {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		if n == c.to {
			c.clean.Store(time.Now().UnixNano())
		}
		pkts, err := enc.Encode(c.aus[n%len(c.aus)])
		if err != nil {
			t.Errorf("RTP encode: %v", err)
			return
		}
		if n >= c.from && n < c.to {
			for _, p := range pkts {
				if rng.IntN(3) == 0 {
					p.Payload = random()
				}
			}
			var junk []*rtp.Packet
			for range 1 + rng.IntN(3) {
				junk = append(junk, &rtp.Packet{
					Header:  rtp.Header{Version: 2, PayloadType: 96, Marker: rng.IntN(2) == 0},
					Payload: random(),
				})
			}
			pkts = append(junk, pkts...)
		}
		ts := uint32(n * 3600) // 90 kHz clock, 25 fps
		for _, p := range pkts {
			p.SequenceNumber, p.Timestamp = seq, ts
			seq++
			// An error here means the stream is closing.
			_ = c.stream.WritePacketRTP(c.media, p)
		}
	}
}

func (c *garbageCamera) close() {
	close(c.done)
	c.wg.Wait()
	c.stream.Close()
	c.server.Close()
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (c *garbageCamera) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c.ready.RLock()
	defer c.ready.RUnlock()
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (c *garbageCamera) OnSetup(*gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c.ready.RLock()
	defer c.ready.RUnlock()
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (c *garbageCamera) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// readNALUs returns the access units of a clip as NALU lists.
func readNALUs(t *testing.T, path string) [][][]byte {
	t.Helper()
	var aus [][][]byte
	err := mediafile.ReadFile(context.Background(), path, func(au media.AccessUnit) error {
		aus = append(aus, au.NALUs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return aus
}

// TestGarbagePayloads plays a camera that sends random bytes in place of
// and between RTP payloads for 2 s: the errors must be counted, nothing may
// panic or leak, and decoding must recover at the next keyframe once the
// video is clean again.
func TestGarbagePayloads(t *testing.T) {
	t.Parallel()
	needFile(t, syntheticClip)
	const from, to = 25, 75 // access units, at 25 per second
	cam := startGarbageCamera(t, readNALUs(t, syntheticClip), from, to)
	p := startPipe(t, ingest.Config{URL: cam.url()})

	before, after := 0, 0
	var recovered time.Duration
	deadline := time.Now().Add(20 * time.Second)
	for after < 25 {
		f := p.next(t, time.Until(deadline))
		if c := cam.clean.Load(); c != 0 && f.Received.UnixNano() > c {
			if after == 0 {
				recovered = f.Received.Sub(time.Unix(0, c))
			}
			after++
		} else if c == 0 {
			before++
		}
		if f.Pic.Size() != image.Pt(640, 360) {
			t.Errorf("frame %d is %v, want 640x360", f.Seq, f.Pic.Size())
		}
		f.Close()
	}
	p.stop(t)
	is, ds := p.ing.Stats(), p.dec.Stats()
	t.Logf("%d frames before clean video resumed, %d after; first clean frame %v after clean video resumed; ingest %+v; decode %+v",
		before, after, recovered.Round(time.Millisecond), is, ds)
	if before == 0 {
		t.Error("no frame decoded before the garbage")
	}
	if is.DecodeErrors+ds.Errors == 0 {
		t.Error("random payloads caused no counted error (ingest DecodeErrors and decode Errors are 0)")
	}
	// Keyframes come every 10 access units (0.4 s); allow for scheduling.
	if recovered > 2*time.Second {
		t.Errorf("decoding recovered %v after the stream was clean, want within one keyframe interval", recovered)
	}
}

// TestTruncatedFile cuts a copy of vtest.mp4 to 60% of its bytes. Replay
// refuses it up front, naming the file (serving it would stall the camera
// once a loop); reading and decoding it yields the frames before the cut,
// then a clear error naming the file, without panic or leak.
func TestTruncatedFile(t *testing.T) {
	t.Parallel()
	needFile(t, vtestClip)
	cut := filepath.Join(t.TempDir(), "vtest-truncated.mp4")
	data, err := os.ReadFile(vtestClip)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:len(data)*6/10], 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("replay", func(t *testing.T) {
		srv, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{cut}})
		if err == nil {
			srv.Close()
			t.Fatal("replay.New accepted a truncated file")
		}
		t.Logf("replay.New: %v", err)
		if !errors.Is(err, replay.ErrUnsupported) || !strings.Contains(err.Error(), cut) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("error %q should wrap ErrUnsupported, name %s and say it is truncated", err, cut)
		}
	})

	t.Run("read and decode", func(t *testing.T) {
		full, partial := probe(t, vtestClip), probe(t, cut)
		n, readErr, ds := decodeFile(t, cut)
		t.Logf("%d frames decoded (ffprobe: %d of the truncated file, %d of the whole); read error: %v; decode %+v",
			n, partial.frames, full.frames, readErr, ds)
		if readErr != nil && !strings.Contains(readErr.Error(), cut) {
			t.Errorf("read error %q does not name the file", readErr)
		}
		if n < partial.frames*98/100 || n >= full.frames {
			t.Errorf("decoded %d frames, want about %d (ffprobe on the truncated file) and fewer than %d", n, partial.frames, full.frames)
		}
		if ds.Width != 768 || ds.Height != 576 {
			t.Errorf("decoded %dx%d, want 768x576", ds.Width, ds.Height)
		}
	})
}

// decodeFile feeds a file through mediafile.ReadFile and the decode stage
// and returns the frame count, ReadFile's error and decode's stats.
func decodeFile(t *testing.T, path string) (int, error, decode.Stats) {
	t.Helper()
	dec, err := decode.New(decode.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aus := make(chan media.AccessUnit, 8)
	frames := make(chan decode.Frame, 4)
	readErr := make(chan error, 1)
	go func() {
		defer close(aus)
		readErr <- mediafile.ReadFile(ctx, path, func(au media.AccessUnit) error {
			select {
			case aus <- au:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	decErr := make(chan error, 1)
	go func() { decErr <- dec.Run(ctx, aus, frames) }()
	n := 0
	for f := range frames {
		n++
		f.Close()
	}
	if err := <-decErr; err != nil {
		t.Errorf("decode Run: %v", err)
	}
	return n, <-readErr, dec.Stats()
}

// TestDamagedSource transcodes OpenCV's deliberately damaged sample
// (Megamind_bugy.avi, MPEG-4 part 2) to H.264 with ffmpeg, as
// testvideos/README.md tells operators to, and decodes the result through
// our stages. The original is refused with the conversion command.
func TestDamagedSource(t *testing.T) {
	t.Parallel()
	const src = "/usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi"
	needFile(t, src)
	err := mediafile.ReadFile(context.Background(), src, func(media.AccessUnit) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "ffmpeg -i") {
		t.Errorf("ReadFile on MPEG-4 part 2 = %v, want an error with the ffmpeg command to convert it", err)
	}
	out := filepath.Join(t.TempDir(), "megamind.mp4")
	ffmpeg(t, "-i", src, "-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "0", out)
	info := probe(t, out)
	n, readErr, ds := decodeFile(t, out)
	t.Logf("%d frames decoded, ffprobe counts %d (%dx%d); read error %v; decode %+v", n, info.frames, info.width, info.height, readErr, ds)
	if readErr != nil {
		t.Errorf("read: %v", readErr)
	}
	if n != info.frames || ds.Width != info.width || ds.Height != info.height {
		t.Errorf("decoded %d frames at %dx%d, ffprobe says %d at %dx%d", n, ds.Width, ds.Height, info.frames, info.width, info.height)
	}
}
