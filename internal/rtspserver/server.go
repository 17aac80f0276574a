package rtspserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/auth"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

// Config configures a Server.
type Config struct {
	// Name says whose server this is ("restream", "replay"), in logs and errors.
	Name string
	// Addr is the RTSP (TCP) listen address; port 0 picks a free one (see
	// Server.Addr). Required.
	Addr string
	// UDPRTPAddress and UDPRTCPAddress enable the UDP transport when both
	// are set. Empty means TCP only.
	UDPRTPAddress, UDPRTCPAddress string
	// Auth, when its User is set, is required from every client (Basic or
	// Digest MD5). A user with an empty password is refused by New.
	Auth Credentials
	// Lookup returns the stream of a request path (without the leading
	// slash). An error or a nil stream is answered 404. Required.
	Lookup func(path string) (*gortsplib.ServerStream, error)
	// Fix is appended to a listen error to say how to solve it
	// ("change restream.addr"). Optional.
	Fix string
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Server is a gortsplib server with edge's lifecycle and credential check.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	srv    *gortsplib.Server
	addr   string
	nonces map[*gortsplib.ServerConn]string // each connection's Digest challenge
	// readers are the sessions playing a stream, for CloseStream.
	readers map[*gortsplib.ServerSession]*reader
	closed  bool
}

// New checks cfg.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Addr == "":
		return nil, fmt.Errorf("%s: no listen address", cfg.Name)
	case cfg.Lookup == nil:
		return nil, fmt.Errorf("%s: no stream lookup", cfg.Name)
	case cfg.Auth.User == "" && cfg.Auth.Password != "":
		return nil, fmt.Errorf("%s: password set without user name; set both or neither", cfg.Name)
	case cfg.Auth.User != "" && cfg.Auth.Password == "":
		// An empty password would let in anyone who knows the name.
		return nil, fmt.Errorf("%s: user %q has an empty password; set a password or remove the user", cfg.Name, cfg.Auth.User)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Logger, nonces: map[*gortsplib.ServerConn]string{}, readers: map[*gortsplib.ServerSession]*reader{}}, nil
}

// Start listens. A Server starts once; a closed one cannot start.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.closed {
		return fmt.Errorf("%s: server already started or closed", s.cfg.Name)
	}
	var listening string
	srv := &gortsplib.Server{
		Handler:        &handler{s: s},
		RTSPAddress:    s.cfg.Addr,
		UDPRTPAddress:  s.cfg.UDPRTPAddress,
		UDPRTCPAddress: s.cfg.UDPRTCPAddress,
		// Only what handler.authorize offers; it answers the challenges.
		AuthMethods: []auth.VerifyMethod{auth.VerifyMethodBasic, auth.VerifyMethodDigestMD5},
		// Wrapping Listen is how we learn the port when Addr asks for port 0.
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				listening = l.Addr().String()
			}
			return l, err
		},
	}
	if err := srv.Start(); err != nil {
		fix := ""
		if s.cfg.Fix != "" {
			fix = " (" + s.cfg.Fix + ")"
		}
		return fmt.Errorf("%s: listen on %s: %w%s", s.cfg.Name, s.cfg.Addr, err, fix)
	}
	s.srv, s.addr = srv, listening
	return nil
}

// Inner is the gortsplib server that streams are created on; nil before Start.
func (s *Server) Inner() *gortsplib.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Addr is the address listened on, with the real port; empty before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Wait blocks until the server stops and returns why.
func (s *Server) Wait() error {
	srv := s.Inner()
	if srv == nil {
		return fmt.Errorf("%s: server not started", s.cfg.Name)
	}
	return srv.Wait()
}

// Close disconnects every client and stops listening. Safe to call more than
// once and before Start.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.closed = true
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Lifecycle is what Run drives: a server of this package, or one built on it.
type Lifecycle interface {
	Start() error
	Wait() error
	Close()
}

// Run starts l and serves until ctx is done (nil) or l fails (its error);
// l is closed before Run returns.
func Run(ctx context.Context, name string, l Lifecycle) error {
	if err := l.Start(); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- l.Wait() }()
	select {
	case <-ctx.Done():
		l.Close()
		<-errc //nolint:errcheck // Wait's error after Close is only the close: asked to stop, nothing to report
		return nil
	case err := <-errc:
		l.Close()
		return fmt.Errorf("%s: server stopped: %w", name, err)
	}
}

// PlayURL is rtsp://addr/path; an unspecified host (":8554", "0.0.0.0")
// becomes 127.0.0.1 so the URL can be played on this machine.
func PlayURL(addr, path string) string {
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return "rtsp://" + addr + "/" + path
}

// errNotFound is answered 404.
var errNotFound = errors.New("no such stream")

// handler answers RTSP requests; kept apart so that gortsplib's callbacks
// are not part of Server's API.
type handler struct{ s *Server }

// OnConnOpen implements gortsplib.ServerHandlerOnConnOpen.
func (h *handler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	h.s.log.Debug(h.s.cfg.Name+" client connected", "remote", ctx.Conn.NetConn().RemoteAddr())
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.s.mu.Lock()
	delete(h.s.nonces, ctx.Conn)
	h.s.mu.Unlock()
	h.s.log.Debug(h.s.cfg.Name+" client disconnected", "remote", ctx.Conn.NetConn().RemoteAddr(), "reason", ctx.Error)
}

// nonce is conn's Digest challenge, made at its first request.
func (h *handler) nonce(conn *gortsplib.ServerConn) (string, error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if n, ok := h.s.nonces[conn]; ok {
		return n, nil
	}
	n, err := auth.GenerateNonce()
	if err != nil {
		return "", err
	}
	h.s.nonces[conn] = n
	return n, nil
}

// authorize checks credentials; a nil response lets the request go on. A
// request without credentials is challenged; one with wrong credentials is
// refused and gortsplib closes its connection.
func (h *handler) authorize(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if !h.s.cfg.Auth.Required() {
		return nil, nil
	}
	nonce, err := h.nonce(conn)
	if err != nil {
		return &base.Response{StatusCode: base.StatusInternalServerError}, fmt.Errorf("auth nonce: %w", err)
	}
	if h.s.cfg.Auth.Verify(req, nonce) {
		return nil, nil
	}
	if provided(req) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	}
	return &base.Response{StatusCode: base.StatusUnauthorized, Header: base.Header{"WWW-Authenticate": challenge(nonce)}}, nil
}

func (h *handler) lookup(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(conn, req); res != nil {
		return res, nil, err
	}
	st, err := h.s.cfg.Lookup(path)
	if err == nil && st == nil {
		err = errNotFound
	}
	if err != nil {
		// 404 both for unknown paths and for ones without a picture yet:
		// players retry, and nothing else could be served anyway.
		return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("%s: %q: %w", h.s.cfg.Name, path, err)
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, trim(ctx.Path))
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, trim(ctx.Path))
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.s.log.Debug(h.s.cfg.Name+" client playing", "path", ctx.Path, "remote", ctx.Conn.NetConn().RemoteAddr())
	h.playing(ctx)
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func trim(path string) string {
	if len(path) > 0 && path[0] == '/' {
		return path[1:]
	}
	return path
}
