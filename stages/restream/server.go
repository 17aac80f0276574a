package restream

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/ratelog"
	"github.com/edgeprivacy/edge/internal/rtspserver"
)

// ServerConfig configures the restream Server.
type ServerConfig struct {
	// Addr is the RTSP (TCP) listen address; port 0 picks a free one (see
	// Server.Addr). Required; configs fills in restream.addr's default.
	Addr string
	// Username and Password, when Username is set, are required from every
	// client (RTSP Basic or Digest auth, internal/rtspserver's check, which
	// refuses a username with an empty password; configs says so at load
	// with the keys to set).
	Username string
	Password string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Server serves the masked stream of each camera at rtsp://ADDR/<camera>.
// There is one per `edge run`. Paths exist only for cameras registered with
// Path; anything else is answered 404.
type Server struct {
	cfg  ServerConfig
	log  *slog.Logger
	rtsp *rtspserver.Server

	mu    sync.RWMutex
	paths map[string]*Path
}

// NewServer checks cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("restream: no listen address (restream.addr; configs fills in its default)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, paths: map[string]*Path{}}
	var err error
	s.rtsp, err = rtspserver.New(rtspserver.Config{
		Name: "restream", Addr: cfg.Addr, Auth: rtspserver.Credentials{User: cfg.Username, Password: cfg.Password},
		Lookup: s.stream, Fix: "free the port or change restream.addr", Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Path registers camera and returns its path, which plays the units of the
// camera's encoder stage (Path.Run). Register every path before Start.
func (s *Server) Path(camera string) *Path {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.paths[camera]; ok {
		return p
	}
	p := &Path{s: s, name: camera, log: s.log.With("camera", camera)}
	p.rtpFailed = ratelog.New(p.log, slog.LevelWarn, "restream RTP packetisation or write failed")
	s.paths[camera] = p
	return p
}

// DisconnectViewers ends the sessions playing camera's path, as a privacy
// change applied in place does (Path.zonesChanged): its stream is closed
// and the call waits, CloseWait at most, until they have ended; the next
// keyframe makes a new stream. A reload that restarts a camera under other
// privacy zones calls it: the new run's mask epoch is not the one the path
// watches, so the path's own hook does not fire for that change.
func (s *Server) DisconnectViewers(camera string) {
	s.mu.Lock()
	p := s.paths[camera]
	s.mu.Unlock()
	if p != nil {
		p.zonesChanged()
	}
}

// Start listens.
func (s *Server) Start() error {
	if err := s.rtsp.Start(); err != nil {
		return err
	}
	s.log.Info("restream serving masked streams", "addr", s.rtsp.Addr(), "auth", s.cfg.Username != "")
	return nil
}

// Wait blocks until the server stops and returns why.
func (s *Server) Wait() error { return s.rtsp.Wait() }

// Run starts the server and serves until ctx is done (nil) or the server
// fails; it closes the server before returning.
func (s *Server) Run(ctx context.Context) error { return rtspserver.Run(ctx, "restream", s) }

// Addr is the address listened on, with the real port; empty before Start.
func (s *Server) Addr() string { return s.rtsp.Addr() }

// URL is the rtsp:// address of camera's masked stream, without credentials.
func (s *Server) URL(camera string) string {
	addr := s.Addr()
	if addr == "" {
		addr = s.cfg.Addr
	}
	return rtspserver.PlayURL(addr, camera)
}

// Close disconnects clients and stops listening. Safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	paths := s.paths
	s.mu.Unlock()
	for _, p := range paths {
		p.close()
	}
	s.rtsp.Close()
}

// stream returns the live stream of a request path, if it has one
// (rtspserver.Config.Lookup).
func (s *Server) stream(path string) (*gortsplib.ServerStream, error) {
	s.mu.RLock()
	p := s.paths[path]
	s.mu.RUnlock()
	if p == nil {
		return nil, fmt.Errorf("no restreamed camera named %q", path)
	}
	return p.current()
}

// QueueSize is how many access units may wait for a path (2 s at 15 fps):
// its queue in the encoder's Fanout. Writing a unit takes microseconds, so
// it fills only when the process stalls.
const QueueSize = 30

// Path is one camera's stream on the Server, a consumer of the camera's
// encoded units.
type Path struct {
	s         *Server
	name      string
	log       *slog.Logger
	rtpFailed *ratelog.Limiter
	// stale counts units dropped because a reload changed the privacy
	// zones after they were masked; failed units not written (a stream
	// not created, RTP packetisation or a write failed).
	stale, failed atomic.Uint64

	mu      sync.Mutex
	stream  *gortsplib.ServerStream // nil until the first keyframe
	media   *description.Media
	enc     *rtph264.Encoder
	sps     []byte
	pps     []byte
	rtpBase uint32
	start   time.Time // wall clock at PTS 0, for RTCP sender reports
	// shift is added to every unit's PTS, and last is the output time of
	// the previous unit, step the interval before it: a rebuilt encoder
	// (a reload) starts its PTS at 0 again with the same SPS and PPS, and
	// viewers would see the stream's clock jump back.
	shift, last, step time.Duration
	written           bool // last is set
	waitKey           bool // a stale unit was dropped: nothing until a keyframe
	closed            bool
	paused            bool
	// clock is the mask epoch of the units written, watched for privacy
	// changes (zonesChanged) until unwatch; a restarted camera brings a
	// new one.
	clock   *maskepoch.Clock
	unwatch func()
}

// CloseWait bounds how long a privacy change waits for the viewers of the
// old zones' stream to be disconnected (Path.zonesChanged). Ending a
// session takes milliseconds; a reload, and the camera's mask stage, wait
// that long at most.
const CloseWait = 2 * time.Second

// Run plays the units from in until in is closed or ctx is done; it returns
// nil.
func (p *Path) Run(ctx context.Context, in <-chan media.AccessUnit) error {
	for {
		au, ok := flow.Recv(ctx, in)
		if !ok {
			return nil
		}
		p.write(au)
	}
}

// StaleMask is how many units the path dropped because a reload changed
// the privacy zones after they were masked.
func (p *Path) StaleMask() uint64 { return p.stale.Load() }

// Failures is how many units the path could not write: its stream not
// (re)created, RTP packetisation or a write failed.
func (p *Path) Failures() uint64 { return p.failed.Load() }

// write packetises the access unit into RTP for every client playing the
// path. It never waits for a client: each has its own queue in gortsplib,
// which drops when full. A unit painted with privacy zones a reload has
// replaced is dropped; the unit's epoch is held while it is handed to
// gortsplib, so none is handed over once the reload has returned.
func (p *Path) write(au media.AccessUnit) {
	release, ok := au.Mask.Hold()
	if !ok {
		p.stale.Add(1)
		p.mu.Lock()
		p.waitKey = true
		p.mu.Unlock()
		return
	}
	defer release()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.paused || p.s.rtsp.Inner() == nil {
		return
	}
	p.watch(au.Mask.Clock())
	if p.waitKey {
		if !au.Keyframe {
			p.stale.Add(1)
			return
		}
		p.waitKey = false
	}
	if au.Keyframe {
		if err := p.setParams(au); err != nil {
			p.failed.Add(1)
			p.log.Warn("restream path not (re)created", "err", err)
			return
		}
	}
	if p.stream == nil {
		return // wait for a keyframe: nothing before it can be decoded
	}
	pkts, err := p.enc.Encode(au.NALUs)
	if err != nil {
		p.failed.Add(1)
		p.rtpFailed.Log("err", err)
		return
	}
	pts := p.continuous(au.PTS)
	ts := p.rtpBase + uint32(pts.Nanoseconds()*9/100000)
	ntp := p.start.Add(pts)
	for _, pkt := range pkts {
		pkt.Timestamp = ts
		if err := p.stream.WritePacketRTPWithNTP(p.media, pkt, ntp); err != nil {
			p.failed.Add(1)
			p.rtpFailed.Log("err", err)
			return
		}
	}
}

// watch registers zonesChanged with the camera's mask epoch c, before
// anything painted in one of its epochs is written (nil: units of no
// camera, as in tests of the path alone). p.mu is held, and so is a stamp
// of c: OnZonesChange takes neither lock.
func (p *Path) watch(c *maskepoch.Clock) {
	if c == nil || c == p.clock {
		return
	}
	if p.unwatch != nil {
		p.unwatch() // the camera was restarted: its old epoch is done
	}
	p.clock, p.unwatch = c, c.OnZonesChange(p.zonesChanged)
}

// zonesChanged runs inside the reload that changes the camera's privacy
// zones, under its mask epoch's write lock, so no unit is written
// meanwhile. Hold keeps units of the old zones from being handed to
// gortsplib after the reload, but not those it had queued to a viewer
// before (a slow one holds seconds of them, and the kernel more): the
// stream is closed, which ends its viewers' sessions and discards their
// queues, and the reload waits (CloseWait at most) until they have ended.
// The next keyframe, the first picture of the new zones (the encoder codes
// it as an IDR), creates a new stream, and viewers reconnect to it.
//
// It takes p.mu, which no one holds while waiting for the epoch (write
// takes its stamp first), and waits for the sessions without it, since
// ending them does not need the path but a DESCRIBE meanwhile does (and is
// answered 404 until the new stream).
func (p *Path) zonesChanged() {
	p.mu.Lock()
	st := p.stream
	p.stream = nil
	p.mu.Unlock()
	if st == nil {
		return
	}
	start := time.Now()
	if err := p.s.rtsp.CloseStream(st, CloseWait); err != nil {
		p.log.Warn("privacy zones changed: restream viewers not all disconnected in time", "err", err)
		return
	}
	p.log.Info("privacy zones changed: restream viewers disconnected, to reconnect to the new zones' stream", "took", time.Since(start))
}

// defaultStep is the frame interval assumed after a PTS restart before two
// units have shown the real one (15 fps, the encoder's default rate).
const defaultStep = time.Second / 15

// continuous maps a unit's PTS to the stream's time, which only increases:
// a PTS at or before the last one (an encoder rebuilt by a reload restarts
// at 0) continues one frame interval after the last unit instead.
func (p *Path) continuous(pts time.Duration) time.Duration {
	out := pts + p.shift
	if p.written {
		if d := out - p.last; d > 0 {
			p.step = d
		} else {
			step := p.step
			if step <= 0 {
				step = defaultStep
			}
			p.shift = p.last + step - pts
			out = p.last + step
		}
	}
	p.last, p.written = out, true
	return out
}

// setParams (re)creates the stream when the keyframe's SPS or PPS differ
// from those announced: a new size needs a new SDP, so clients reconnect.
func (p *Path) setParams(au media.AccessUnit) error {
	var sps, pps []byte
	for _, n := range au.NALUs {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	if sps == nil || pps == nil {
		return errors.New("keyframe without SPS and PPS")
	}
	if p.stream != nil && string(sps) == string(p.sps) && string(pps) == string(p.pps) {
		return nil
	}
	p.dropStream()
	f := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: append([]byte(nil), sps...), PPS: append([]byte(nil), pps...)}
	media := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{f}}
	st := &gortsplib.ServerStream{Server: p.s.rtsp.Inner(), Desc: &description.Session{Medias: []*description.Media{media}}}
	if err := st.Initialize(); err != nil {
		return err
	}
	enc, err := f.CreateEncoder()
	if err != nil {
		st.Close()
		return err
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	p.stream, p.media, p.enc, p.sps, p.pps = st, media, enc, f.SPS, f.PPS
	p.rtpBase = binary.BigEndian.Uint32(b[:])
	p.start = time.Now().Add(-au.PTS)
	p.shift, p.last, p.step, p.written = 0, 0, 0, false // a new stream: a new clock
	p.log.Info("restream path ready", "path", "/"+p.name, "width", au.Width, "height", au.Height)
	return nil
}

// Pause closes the stream, which disconnects every client, and refuses new
// ones (404) until Resume; units written meanwhile are dropped.
func (p *Path) Pause() { p.stopServing(&p.paused) }

// Resume serves the path again from the next keyframe.
func (p *Path) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = false
}

func (p *Path) current() (*gortsplib.ServerStream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stream == nil {
		return nil, fmt.Errorf("camera %q: %w", p.name, errNoStream)
	}
	return p.stream, nil
}

func (p *Path) close() { p.stopServing(&p.closed) }

// stopServing sets flag, paused or closed, which keeps the path from
// serving, and drops its stream.
func (p *Path) stopServing(flag *bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*flag = true
	p.dropStream()
}

// dropStream closes the stream, if any, which disconnects its clients; the
// next keyframe creates a new one unless the path is paused or closed. p.mu
// is held.
func (p *Path) dropStream() {
	if p.stream != nil {
		p.stream.Close()
		p.stream = nil
	}
}

// errNoStream is returned for paths whose camera has not sent a keyframe yet.
var errNoStream = errors.New("no picture yet")
