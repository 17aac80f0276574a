package rtspserver

import (
	"net"

	"github.com/bluenviron/gortsplib/v4"
)

// SetEqual replaces the comparison of secret-dependent fields for a test and
// returns a function that puts the real one back.
func SetEqual(f func(a, b string) int) (restore func()) {
	old := equal
	equal = f
	return func() { equal = old }
}

// Readers is how many sessions s knows to be playing.
func Readers(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.readers)
}

// AddStuckReader makes s believe a session plays st that never ends, on a
// connection whose other end it returns, and returns a function that ends it.
func AddStuckReader(s *Server, st *gortsplib.ServerStream) (client net.Conn, end func()) {
	server, client := net.Pipe()
	r := &reader{stream: st, conn: server, done: make(chan struct{})}
	s.mu.Lock()
	s.readers[nil] = r
	s.mu.Unlock()
	return client, func() {
		s.mu.Lock()
		delete(s.readers, nil)
		s.mu.Unlock()
		close(r.done)
	}
}
