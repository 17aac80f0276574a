package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"

	"github.com/edgeprivacy/edge/internal/rtspserver"
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
	// clients (RTSP Basic or Digest auth, checked by internal/rtspserver).
	// A Username with an empty Password is refused.
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
	rtsp  *rtspserver.Server

	// mu guards streams and addr, which RTSP handlers read. It is never
	// held while waiting for gortsplib, whose handlers take it.
	mu      sync.RWMutex
	streams map[string]*gortsplib.ServerStream // by path without leading slash
	addr    string

	life      sync.Mutex // serialises Start and Close
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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, streams: map[string]*gortsplib.ServerStream{}}
	var err error
	s.rtsp, err = rtspserver.New(rtspserver.Config{
		Name: "replay", Addr: cfg.Addr, UDPRTPAddress: cfg.UDPRTPAddress, UDPRTCPAddress: cfg.UDPRTCPAddress,
		Auth: rtspserver.Credentials{User: cfg.Username, Password: cfg.Password}, Lookup: s.lookup, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if s.clips, err = scan(cfg.Paths); err != nil {
		return nil, err
	}
	for _, c := range s.clips {
		log.Debug("replay clip", "path", c.path, "name", c.name, "codec", c.params.codec,
			"width", c.width, "height", c.height, "frames", c.frames, "length", c.length)
	}
	return s, nil
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
	if err := s.rtsp.Start(); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	var streamers []*streamer
	for _, c := range s.clips {
		st := &gortsplib.ServerStream{
			Server: s.rtsp.Inner(),
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
	s.addr = s.rtsp.Addr()
	s.mu.Unlock()
	s.log.Info("replay serving", "addr", s.addr, "streams", len(s.clips))
	return nil
}

// Wait blocks until the RTSP server stops and returns why.
func (s *Server) Wait() error { return s.rtsp.Wait() }

// Run starts the server and serves until ctx is cancelled or the server
// fails; it closes the server before returning.
func (s *Server) Run(ctx context.Context) error { return rtspserver.Run(ctx, "replay", s) }

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
		s.rtsp.Close()
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
	urls := make([]string, len(s.clips))
	for i, c := range s.clips {
		urls[i] = rtspserver.PlayURL(addr, c.name)
	}
	return urls
}

// lookup finds the stream for a request path (rtspserver.Config.Lookup).
func (s *Server) lookup(path string) (*gortsplib.ServerStream, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st := s.streams[path]; st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("no video named %q", path)
}
