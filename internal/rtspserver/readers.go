package rtspserver

import (
	"fmt"
	"net"
	"time"

	"github.com/bluenviron/gortsplib/v4"
)

// reader is a session playing one of the server's streams.
type reader struct {
	stream *gortsplib.ServerStream
	conn   net.Conn      // the RTSP connection; over TCP it carries the RTP packets
	done   chan struct{} // closed when the session has ended
}

// CloseStream closes st, which ends the session of every client playing
// it, and waits until those sessions have ended, at most timeout. A
// session's RTP packets still queued in gortsplib are discarded with it,
// and so are those the kernel holds in the send buffer of a TCP
// connection (closed with linger 0, that is a reset): once CloseStream has
// returned, nothing written to st before is sent to anyone. A session that
// has not ended by the timeout has its connection closed under it; the
// error says how many there were. st must be a stream of
// this server; nil does nothing.
func (s *Server) CloseStream(st *gortsplib.ServerStream, timeout time.Duration) error {
	if st == nil {
		return nil
	}
	s.mu.Lock()
	var readers []*reader
	for _, r := range s.readers {
		if r.stream == st {
			readers = append(readers, r)
		}
	}
	s.mu.Unlock()
	for _, r := range readers {
		if tc, ok := r.conn.(*net.TCPConn); ok {
			// Not a graceful close: data the kernel still holds for a slow
			// client is what CloseStream is to discard.
			_ = tc.SetLinger(0) //nolint:errcheck // an already closed connection has nothing left to send
		}
	}
	st.Close()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i, r := range readers {
		select {
		case <-r.done:
		case <-deadline.C:
			// Fail closed: a session that has not ended (its connection
			// goroutine stuck, say on a client that stopped reading) loses
			// its connection now, so nothing queued before can still be
			// written to it once CloseStream returns.
			for _, late := range readers[i:] {
				if late.conn != nil {
					_ = late.conn.Close() //nolint:errcheck // closing is the point; one already closed is as good
				}
			}
			return fmt.Errorf("%s: %d of %d sessions of the closed stream still open after %v: their connections were reset", s.cfg.Name, len(readers)-i, len(readers), timeout)
		}
	}
	return nil
}

// playing records the session of ctx, which starts to play its stream:
// before gortsplib makes it a reader that packets are written to.
func (h *handler) playing(ctx *gortsplib.ServerHandlerOnPlayCtx) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if _, ok := h.s.readers[ctx.Session]; ok {
		return // PLAY again after PAUSE
	}
	h.s.readers[ctx.Session] = &reader{stream: ctx.Session.SetuppedStream(), conn: ctx.Conn.NetConn(), done: make(chan struct{})}
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (h *handler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if r, ok := h.s.readers[ctx.Session]; ok {
		delete(h.s.readers, ctx.Session)
		close(r.done)
	}
}
