package ingest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

func TestClassifyScrubsCredentials(t *testing.T) {
	const raw = "rtsp://admin:Hunter2%21x@cam.local:554/live"
	scrub := scrubber(raw)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"quoted url", fmt.Errorf("GET %s: boom", raw), nil},
		{"decoded password", errors.New("auth failed for admin:Hunter2!x"), nil},
		{"401", liberrors.ErrClientBadStatusCode{Code: base.StatusUnauthorized, Message: "Unauthorized " + raw}, ErrUnauthorized},
		{"404", liberrors.ErrClientBadStatusCode{Code: base.StatusNotFound}, ErrNotFound},
		{"refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), ErrUnreachable},
		{"silent port", liberrors.ErrClientRequestTimedOut{}, ErrNoAnswer},
		{"stall", fmt.Errorf("%w for 5s", ErrStalled), ErrStalled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, scrub)
			for _, secret := range []string{"Hunter2", "admin:"} {
				if strings.Contains(got.Error(), secret) {
					t.Errorf("classify(%q) = %q still holds %q", tc.err, got, secret)
				}
			}
			if tc.want != nil && !errors.Is(got, tc.want) {
				t.Errorf("classify(%q) = %v, want it to wrap %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	lo, hi := 500*time.Millisecond, 30*time.Second
	for attempt := 0; attempt < 20; attempt++ {
		ceil := min(lo<<min(attempt, 10), hi)
		for k := 0; k < 200; k++ {
			if d := backoff(lo, hi, attempt); d < 0 || d > ceil {
				t.Fatalf("backoff(attempt %d) = %v, want within [0, %v]", attempt, d, ceil)
			}
		}
	}
	// Full jitter: draws must spread, not sit at the ceiling.
	seen := map[time.Duration]bool{}
	for k := 0; k < 50; k++ {
		seen[backoff(lo, hi, 5)] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct pauses in 50 draws", len(seen))
	}
}
