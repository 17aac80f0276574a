package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/stages/mask"
)

// Backend is what the console needs from the running application.
type Backend interface {
	// Config returns the config in force.
	Config() *configs.Config
	// Latest returns a reference to the camera's newest masked frame, or
	// nil; the caller closes it.
	Latest(camera string) *mask.Frame
	// Change edits the config file with edit, then validates, writes back,
	// reloads and audits it as done by user, describing it as action. A
	// rejected change leaves the file untouched; its error is a
	// *configs.ValidationError or *configs.DecodeError listing every problem.
	Change(ctx context.Context, user, action string, edit func(raw []byte) ([]byte, error)) error
	// ConfigFile returns the config file's path and the content in force.
	ConfigFile() (path string, raw []byte)
	// Ready is nil once the application runs its cameras.
	Ready() error
	// ViewAllowed reports whether a picture of the camera may be shown now
	// (its sign is valid, the rule that gates every image output), and if
	// not, why.
	ViewAllowed(camera string) (bool, string)
}

// Config configures a Server.
type Config struct {
	// HTTP is the listen address, credentials and TLS files.
	HTTP configs.HTTP
	// Backend is the running application. Required.
	Backend Backend
	// Events keeps recent events and state and feeds the live list; its
	// Sink must be in the application's sink chain. Required.
	Events *Events
	// Metrics serves /metrics; nil for none.
	Metrics http.Handler
	// AuditPath is the audit log (a file, or the folder of the chained log,
	// whose newest file is read), read for the audit trail and past events;
	// empty for none.
	AuditPath string
	// Now is the clock signage is judged by. It defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Server is the console's HTTP server.
type Server struct {
	cfg Config
	log *slog.Logger
	srv *http.Server
	ln  net.Listener
}

// New checks cfg and listens on cfg.HTTP.Addr; Serve then answers requests.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil || cfg.Events == nil {
		return nil, errors.New("console: no backend or event store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: the live event stream stays open.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	if cfg.HTTP.TLS() {
		cert, err := tls.LoadX509KeyPair(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("http.tls_cert/tls_key: %w (check both are PEM files readable by edge)", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("http server on %s: %w (free the port, choose another with --http ADDR or http.addr, or turn it off with --http off)", cfg.HTTP.Addr, err)
	}
	if s.srv.TLSConfig != nil {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.ln = ln
	return s, nil
}

// URL is the console's address, e.g. http://127.0.0.1:8080/.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.HTTP.TLS() {
		scheme = "https"
	}
	return scheme + "://" + s.ln.Addr().String() + "/"
}

// Close stops listening; for a server whose Serve was never called.
func (s *Server) Close() { _ = s.ln.Close() } // a listener Serve already closed has nothing to report

// Serve answers requests until ctx is done, then shuts down, giving open
// requests a few seconds.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Event streams end with ctx (they watch the request's context, which
	// Shutdown does not cancel), so close them first.
	s.cfg.Events.closeStreams()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	<-errc //nolint:errcheck // Wait's error after Close is only the close: asked to stop, nothing to report
	return nil
}
