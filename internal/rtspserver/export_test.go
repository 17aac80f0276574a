package rtspserver

import "github.com/bluenviron/gortsplib/v4"

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

// AddStuckReader makes s believe a session plays st that never ends, and
// returns a function that ends it.
func AddStuckReader(s *Server, st *gortsplib.ServerStream) (end func()) {
	r := &reader{stream: st, done: make(chan struct{})}
	s.mu.Lock()
	s.readers[nil] = r
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.readers, nil)
		s.mu.Unlock()
		close(r.done)
	}
}
