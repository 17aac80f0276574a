package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// DefaultAddr is where the server listens when Config.Addr is empty:
// the standard RTSP port, on loopback so a test camera is not exposed.
const DefaultAddr = "127.0.0.1:8554"

// Config configures a replay Server.
type Config struct {
	// Addr is the RTSP (TCP) listen address. Port 0 picks a free port; read
	// it back with Server.Addr. It defaults to DefaultAddr.
	Addr string
	// Paths are video files and directories (not recursive) to serve.
	Paths []string
	// UDPRTPAddress and UDPRTCPAddress enable the UDP transport when both
	// are set (e.g. ":8000" and ":8001"; the RTP port must be even and the
	// RTCP port the next one). Empty means TCP only.
	UDPRTPAddress  string
	UDPRTCPAddress string
	// Username and Password, when Username is set, are required from
	// clients (RTSP basic or digest auth).
	Username string
	Password string
	// Logger receives connection and loop events. It defaults to discarding.
	Logger *slog.Logger
}

// Server is a fake camera: an RTSP server that serves each configured video
// looped forever, paced in real time.
type Server struct {
	cfg   Config
	log   *slog.Logger
	clips []*clip

	// mu guards streams and addr, which RTSP handlers read. It is never
	// held while waiting for gortsplib, whose handlers take it.
	mu      sync.RWMutex
	streams map[string]*gortsplib.ServerStream // by path without leading slash
	addr    string

	life      sync.Mutex // serialises Start and Close
	srv       *gortsplib.Server
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	started   bool
	closeOnce sync.Once
}

// New checks the configuration and opens every video, so that a missing,
// unsupported or broken file is reported before anything listens.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if (cfg.UDPRTPAddress == "") != (cfg.UDPRTCPAddress == "") {
		return nil, errors.New("replay: set both UDPRTPAddress and UDPRTCPAddress, or neither for TCP only")
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("replay: Password set without Username; set both or neither")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clips, err := scan(cfg.Paths)
	if err != nil {
		return nil, err
	}
	for _, c := range clips {
		log.Debug("replay clip", "path", c.path, "name", c.name, "codec", c.params.codec,
			"width", c.width, "height", c.height, "frames", c.frames, "length", c.length)
	}
	return &Server{cfg: cfg, log: log, clips: clips, streams: map[string]*gortsplib.ServerStream{}}, nil
}

// Start listens and starts streaming every clip. Clients are answered
// 404 until all streams are ready.
func (s *Server) Start() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.started {
		return errors.New("replay: server already started or closed; create a new one with New")
	}
	s.started = true

	var listening string
	s.srv = &gortsplib.Server{
		Handler:        &handler{s: s},
		RTSPAddress:    s.cfg.Addr,
		UDPRTPAddress:  s.cfg.UDPRTPAddress,
		UDPRTCPAddress: s.cfg.UDPRTCPAddress,
		// Wrapping Listen is how we learn the port when Addr asks for port 0.
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				listening = l.Addr().String()
			}
			return l, err
		},
	}
	if err := s.srv.Start(); err != nil {
		return fmt.Errorf("replay: listen on %s: %w", s.cfg.Addr, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	var streamers []*streamer
	for _, c := range s.clips {
		st := &gortsplib.ServerStream{
			Server: s.srv,
			Desc: &description.Session{Medias: []*description.Media{{
				Type:    description.MediaTypeVideo,
				Formats: []format.Format{c.format()},
			}}},
		}
		if err := st.Initialize(); err != nil {
			s.closeLocked()
			return fmt.Errorf("replay: %s: %w", c.path, err)
		}
		s.mu.Lock()
		s.streams[c.name] = st
		s.mu.Unlock()
		sr, err := newStreamer(c, st, s.log)
		if err != nil {
			s.closeLocked()
			return err
		}
		streamers = append(streamers, sr)
	}
	for _, sr := range streamers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sr.run(ctx)
		}()
	}
	// Publishing the address last makes Addr() != "" mean "ready to play".
	s.mu.Lock()
	s.addr = listening
	s.mu.Unlock()
	s.log.Info("replay serving", "addr", listening, "streams", len(s.clips))
	return nil
}

// Run starts the server and serves until ctx is cancelled or the server
// fails; it closes the server before returning.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Wait() }()
	select {
	case <-ctx.Done():
		s.Close()
		<-errc //nolint:errcheck // Wait's error after Close is only the close: asked to stop, nothing to report
		return nil
	case err := <-errc:
		s.Close()
		return fmt.Errorf("replay: server stopped: %w", err)
	}
}

// Close stops streaming and listening and disconnects clients.
// It is safe to call more than once and before Start.
func (s *Server) Close() {
	s.life.Lock()
	defer s.life.Unlock()
	s.closeLocked()
}

func (s *Server) closeLocked() {
	s.started = true // a closed server cannot start
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		// Streamers may be writing to the streams; stop them first.
		s.wg.Wait()
		s.mu.Lock()
		streams := s.streams
		s.streams = map[string]*gortsplib.ServerStream{}
		s.mu.Unlock()
		for _, st := range streams {
			st.Close()
		}
		if s.srv != nil {
			s.srv.Close()
		}
	})
}

// Addr returns the address the server listens on, with the actual port
// when Config.Addr asked for port 0. It is empty until Start has finished,
// so a non-empty Addr means every stream can be played.
func (s *Server) Addr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.addr
}

// URLs returns the rtsp:// URL of every served video, sorted by name.
// An unspecified listen host (":8554") is shown as 127.0.0.1.
// Credentials are never included.
func (s *Server) URLs() []string {
	addr := s.Addr()
	if addr == "" {
		addr = s.cfg.Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, port)
	}
	urls := make([]string, len(s.clips))
	for i, c := range s.clips {
		urls[i] = "rtsp://" + addr + "/" + c.name
	}
	return urls
}

// lookup finds the stream for a request path.
func (s *Server) lookup(path string) *gortsplib.ServerStream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.streams[strings.TrimPrefix(path, "/")]
}

// handler answers RTSP requests; it is separate from Server so the
// gortsplib callbacks are not part of Server's API.
type handler struct {
	s *Server
}

// OnConnOpen implements gortsplib.ServerHandlerOnConnOpen.
func (h *handler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	h.s.log.Debug("replay client connected", "remote", ctx.Conn.NetConn().RemoteAddr())
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.s.log.Debug("replay client disconnected", "remote", ctx.Conn.NetConn().RemoteAddr(), "reason", ctx.Error)
}

// authorize checks credentials; a nil response means the request may go on.
func (h *handler) authorize(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if h.s.cfg.Username == "" || conn.VerifyCredentials(req, h.s.cfg.Username, h.s.cfg.Password) {
		return nil, nil
	}
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(ctx.Conn, ctx.Request); res != nil {
		return res, nil, err
	}
	st := h.s.lookup(ctx.Path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("no video named %q", ctx.Path)
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(ctx.Conn, ctx.Request); res != nil {
		return res, nil, err
	}
	st := h.s.lookup(ctx.Path)
	if st == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("no video named %q", ctx.Path)
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.s.log.Debug("replay client playing", "path", ctx.Path, "remote", ctx.Conn.NetConn().RemoteAddr())
	return &base.Response{StatusCode: base.StatusOK}, nil
}
