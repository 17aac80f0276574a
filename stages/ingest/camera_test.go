package ingest_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/media"
)

// clips are access units (without AUD) of short test clips made by ffmpeg in
// TestMain, keyed by codec; nil when ffmpeg is not installed.
var clips = map[media.Codec][][][]byte{}

func makeClips(dir string) error {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil //nolint:nilerr // without ffmpeg there are no clips: the tests that need them skip
	}
	type job struct {
		codec media.Codec
		args  []string
		aud   func(nalu []byte) bool
	}
	jobs := []job{
		{media.H264, []string{"-c:v", "libx264", "-g", "10", "-bf", "0", "-x264-params", "aud=1", "-f", "h264"},
			func(n []byte) bool { return n[0]&0x1f == 9 }},
		{media.H265, []string{"-c:v", "libx265", "-x265-params", "aud=1:keyint=10:bframes=0:log-level=error", "-f", "hevc"},
			func(n []byte) bool { return (n[0]>>1)&0x3f == 35 }},
	}
	for _, j := range jobs {
		out := filepath.Join(dir, j.codec.String())
		args := append([]string{"-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "3"}, j.args...)
		args = append(args, out)
		if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg %s: %w: %s", j.codec, err, b)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			return err
		}
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(raw); err != nil {
			return fmt.Errorf("split %s: %w", j.codec, err)
		}
		var aus [][][]byte
		for _, n := range nalus {
			if j.aud(n) {
				aus = append(aus, nil)
				continue
			}
			if len(aus) == 0 {
				aus = append(aus, nil)
			}
			aus[len(aus)-1] = append(aus[len(aus)-1], n)
		}
		if len(aus) < 20 {
			return fmt.Errorf("clip %s has only %d access units", j.codec, len(aus))
		}
		clips[j.codec] = aus
	}
	return nil
}

func needClip(t *testing.T, c media.Codec) [][][]byte {
	t.Helper()
	aus := clips[c]
	if aus == nil {
		t.Skipf("no %s test clip: ffmpeg with libx264/libx265 is needed", c)
	}
	return aus
}

// cameraOpts shapes the fake camera.
type cameraOpts struct {
	codec     media.Codec // H264 (default) or H265
	udp       bool        // also serve UDP
	sdpParams bool        // parameter sets only in the SDP, stripped from the stream
	garbage   bool        // send random RTP payloads instead of video
	silent    bool        // accept PLAY but send nothing
	notFound  bool        // answer DESCRIBE with 404
	medias    []*description.Media
	user      string // when set, DESCRIBE and SETUP need user/pass
	pass      string
	addr      string // reuse this TCP address (for restarts)
}

// camera is an in-process RTSP server standing in for an IP camera. It
// streams its clip at 10 fps, looping.
type camera struct {
	opts   cameraOpts
	addr   string
	server *gortsplib.Server
	stream *gortsplib.ServerStream
	media  *description.Media
	done   chan struct{}
	wg     sync.WaitGroup
	// ready holds requests back until the stream exists: the server
	// accepts connections as soon as it starts.
	ready sync.RWMutex
}

func startCamera(t *testing.T, opts cameraOpts) *camera {
	t.Helper()
	if opts.codec == 0 {
		opts.codec = media.H264
	}
	addr := opts.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	// A restarted camera may find its port in TIME_WAIT for a moment.
	for try := 0; try < 50; try++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("camera listen: %v", err)
	}
	c := &camera{opts: opts, addr: ln.Addr().String(), done: make(chan struct{})}
	c.ready.Lock()
	defer c.ready.Unlock()
	c.server = &gortsplib.Server{
		Handler:     c,
		RTSPAddress: c.addr,
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if opts.udp {
		rtpPort := freeport.UDPPair(t)
		c.server.UDPRTPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort)
		c.server.UDPRTCPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort+1)
	}
	if err := c.server.Start(); err != nil {
		ln.Close()
		t.Fatalf("camera start: %v", err)
	}
	t.Cleanup(c.close)

	var aus [][][]byte
	var forma format.Format
	switch {
	case opts.medias != nil:
	case opts.codec == media.H264:
		aus = needClip(t, media.H264)
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
		if opts.sdpParams {
			f.SPS, f.PPS = findNALU(aus, func(n []byte) bool { return n[0]&0x1f == 7 }),
				findNALU(aus, func(n []byte) bool { return n[0]&0x1f == 8 })
			aus = stripNALUs(aus, func(n []byte) bool { t := n[0] & 0x1f; return t == 7 || t == 8 })
		}
		forma = f
	case opts.codec == media.H265:
		aus = needClip(t, media.H265)
		typ := func(n []byte) byte { return (n[0] >> 1) & 0x3f }
		f := &format.H265{PayloadTyp: 96}
		if opts.sdpParams {
			f.VPS = findNALU(aus, func(n []byte) bool { return typ(n) == 32 })
			f.SPS = findNALU(aus, func(n []byte) bool { return typ(n) == 33 })
			f.PPS = findNALU(aus, func(n []byte) bool { return typ(n) == 34 })
			aus = stripNALUs(aus, func(n []byte) bool { return typ(n) >= 32 && typ(n) <= 34 })
		}
		forma = f
	}
	medias := opts.medias
	if medias == nil {
		medias = []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}}
	}
	c.media = medias[0]
	c.stream = &gortsplib.ServerStream{Server: c.server, Desc: &description.Session{Medias: medias}}
	if err := c.stream.Initialize(); err != nil {
		c.stream = nil
		t.Fatalf("camera stream: %v", err)
	}
	if forma != nil && !opts.silent {
		c.wg.Add(1)
		go c.serve(t, forma, aus)
	}
	return c
}

type rtpEncoder interface {
	Encode([][]byte) ([]*rtp.Packet, error)
}

func (c *camera) serve(t *testing.T, forma format.Format, aus [][][]byte) {
	defer c.wg.Done()
	var enc rtpEncoder
	switch f := forma.(type) {
	case *format.H264:
		e, err := f.CreateEncoder()
		if err != nil {
			t.Errorf("encoder: %v", err)
			return
		}
		enc = e
	case *format.H265:
		e, err := f.CreateEncoder()
		if err != nil {
			t.Errorf("encoder: %v", err)
			return
		}
		enc = e
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	for n := 0; ; n++ {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		ts := uint32(n * 9000) // 90 kHz clock, 10 fps
		var pkts []*rtp.Packet
		if c.opts.garbage {
			for k := 0; k < 4; k++ {
				payload := make([]byte, 1+rand.IntN(300))
				for b := range payload {
					payload[b] = byte(rand.UintN(256))
				}
				seq++
				pkts = append(pkts, &rtp.Packet{
					Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 1, Marker: rand.IntN(2) == 0},
					Payload: payload,
				})
			}
		} else {
			var err error
			pkts, err = enc.Encode(aus[n%len(aus)])
			if err != nil {
				t.Errorf("encode: %v", err)
				return
			}
		}
		for _, p := range pkts {
			p.Timestamp = ts
			// Errors here mean the stream is closing.
			_ = c.stream.WritePacketRTP(c.media, p)
		}
	}
}

func (c *camera) close() {
	select {
	case <-c.done:
		return
	default:
	}
	close(c.done)
	c.wg.Wait()
	if c.stream != nil {
		c.stream.Close()
	}
	c.server.Close()
}

func (c *camera) url(user, pass string) string {
	if user == "" {
		return "rtsp://" + c.addr + "/cam"
	}
	return "rtsp://" + user + ":" + pass + "@" + c.addr + "/cam"
}

func (c *camera) authorized(conn *gortsplib.ServerConn, req *base.Request) bool {
	return c.opts.user == "" || conn.VerifyCredentials(req, c.opts.user, c.opts.pass)
}

func (c *camera) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c.ready.RLock()
	defer c.ready.RUnlock()
	if !c.authorized(ctx.Conn, ctx.Request) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	if c.opts.notFound {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

func (c *camera) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	c.ready.RLock()
	defer c.ready.RUnlock()
	if !c.authorized(ctx.Conn, ctx.Request) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	return &base.Response{StatusCode: base.StatusOK}, c.stream, nil
}

func (c *camera) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func findNALU(aus [][][]byte, match func([]byte) bool) []byte {
	for _, au := range aus {
		for _, n := range au {
			if match(n) {
				return n
			}
		}
	}
	return nil
}

func stripNALUs(aus [][][]byte, match func([]byte) bool) [][][]byte {
	out := make([][][]byte, 0, len(aus))
	for _, au := range aus {
		var keep [][]byte
		for _, n := range au {
			if !match(n) {
				keep = append(keep, n)
			}
		}
		out = append(out, keep)
	}
	return out
}
