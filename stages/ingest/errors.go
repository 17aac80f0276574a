package ingest

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"

	"github.com/edgeprivacy/edge/internal/redact"
)

// Sentinel errors for the ways a camera connection fails. Errors from this
// package wrap one of them where the cause is known; test with errors.Is.
var (
	// ErrUnauthorized: the camera answered 401 (or 403).
	ErrUnauthorized = errors.New("camera refused the credentials (401): check the username/password in the URL")
	// ErrNotFound: the camera answered 404 to DESCRIBE.
	ErrNotFound = errors.New("camera has no stream at this path (404): check the path in the URL")
	// ErrUnreachable: no RTSP conversation was possible (refused, timed out, no route, DNS).
	ErrUnreachable = errors.New("camera unreachable: check the host, the port and the network")
	// ErrNoVideoTrack: the stream has no video media at all (e.g. audio only).
	ErrNoVideoTrack = errors.New("stream has no video track")
	// ErrUnsupportedCodec: the stream has video, but neither H.264 nor H.265 (e.g. MJPEG).
	ErrUnsupportedCodec = errors.New("stream's video codec is not supported: set the camera to H.264 or H.265")
	// ErrNoAnswer: the port accepted the connection but nothing answered RTSP.
	ErrNoAnswer = errors.New("camera did not answer RTSP: check that the port in the URL is the camera's RTSP port (usually 554)")
	// ErrStalled: the session delivered no access unit for Config.StallTimeout.
	ErrStalled = errors.New("stream stalled: no frames")
)

// classify maps a gortsplib or network error to one of the sentinels and
// returns an error whose text has the credentials scrubbed. The original
// error is not kept in the chain: its text may contain the password.
func classify(err error, scrub *redact.Scrubber) error {
	if err == nil {
		return nil
	}
	kind := kindOf(err)
	msg := scrub.Text(err.Error())
	if kind == nil {
		return errors.New(msg)
	}
	if !strings.Contains(msg, kind.Error()) {
		msg = kind.Error() + " (" + msg + ")"
	}
	return &scrubbedError{msg: msg, kind: kind}
}

// scrubbedError is a failure whose text is safe to log; it unwraps to its
// sentinel only.
type scrubbedError struct {
	msg  string
	kind error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.kind }

func kindOf(err error) error {
	for _, s := range []error{ErrUnauthorized, ErrNotFound, ErrUnreachable, ErrNoAnswer, ErrNoVideoTrack,
		ErrUnsupportedCodec, ErrStalled, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, s) {
			return s
		}
	}
	var timedOut liberrors.ErrClientRequestTimedOut
	if errors.As(err, &timedOut) {
		return ErrNoAnswer
	}
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		switch bad.Code {
		case base.StatusUnauthorized, base.StatusForbidden:
			return ErrUnauthorized
		case base.StatusNotFound:
			return ErrNotFound
		}
		return nil
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return ErrUnreachable
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ErrUnreachable
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return ErrUnreachable
	}
	// Fallback on the text for wrappers that lost the type.
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"), strings.Contains(s, "no route to host"),
		strings.Contains(s, "i/o timeout"), strings.Contains(s, "no such host"):
		return ErrUnreachable
	case strings.Contains(s, "request timed out"):
		return ErrNoAnswer
	case strings.Contains(s, "401"):
		return ErrUnauthorized
	}
	return nil
}
