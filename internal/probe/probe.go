// Package probe checks a camera before it is added: it connects once, decodes
// a few frames and measures what an operator needs (codec, size, frame rate,
// keyframe interval, decode cost), or says why the camera cannot be used.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// Config says which camera to probe and how long to try.
type Config struct {
	URL string
	// Transport is "tcp" or "udp".
	Transport string
	// Frames is how many pictures to decode; at least 1.
	Frames int
	// Timeout is how long to wait for a frame, connecting included.
	Timeout time.Duration
}

// Camera probes cfg.URL and returns what it measured. Its error names the
// camera with its credentials redacted.
func Camera(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Frames < 1 {
		return nil, fmt.Errorf("probe: %d frames: give at least 1", cfg.Frames)
	}
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("probe: timeout %v: give a positive duration", cfg.Timeout)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ing, err := ingest.New(ingest.Config{
		URL:          cfg.URL,
		Transport:    cfg.Transport,
		BufferSize:   cfg.Frames + 10, // probe reads as fast as it decodes; never drop
		MaxAge:       -1,              // nor by age, on however busy a box
		StallTimeout: cfg.Timeout,
		Once:         true,
		// Probe reports the failure itself, once, with the fix.
		Logger: quiet,
	})
	if err != nil {
		return nil, err
	}
	dec, err := decode.New(decode.Config{Logger: quiet})
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	res, err := probe(ctx, ing, dec, cfg.Frames, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", redact.URL(cfg.URL), err)
	}
	res.url, res.transport = redact.URL(cfg.URL), cfg.Transport
	return res, nil
}

// Result is what a probe measured.
type Result struct {
	url, transport string // the URL redacted
	state          ingest.State
	ingestStats    ingest.Stats
	decodeStats    decode.Stats
	aus            int // access units read
	decoded        int // pictures out of the decoder
	decodeErrors   int
	pts            []time.Duration // per access unit
	received       []time.Time     // per access unit
	keyframes      []int           // access unit indexes
	decodeTimes    []time.Duration // per access unit that produced a picture
	firstFrameWait time.Duration   // from start to the first picture
}

func probe(ctx context.Context, ing *ingest.Ingest, dec *decode.Decoder, want int, timeout time.Duration) (*Result, error) {
	// finish stops ingest and waits for it on every return path: its
	// goroutines must not outlive the command.
	aus, finish := ing.Background(ctx, 8)

	res := &Result{}
	begin := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for res.decoded < want {
		select {
		case <-ctx.Done():
			_ = finish() // the error returned says why probing stopped
			return nil, ctx.Err()
		case <-timer.C:
			_ = finish() // the error returned says why probing stopped
			st := ing.State()
			switch {
			case res.aus == 0 && st.Reason != "":
				return nil, fmt.Errorf("no video within %v: %s", timeout, st.Reason)
			case res.aus == 0:
				return nil, fmt.Errorf("no video within %v (camera %s): check that the camera answers RTSP on this port", timeout, st.Status)
			default:
				return nil, fmt.Errorf("stream stopped after %d frames (%d decoded): no frame for %v", res.aus, res.decoded, timeout)
			}
		case au, ok := <-aus:
			if !ok {
				err := finish()
				if err == nil {
					err = errors.New("stream ended")
				}
				if res.aus == 0 {
					return nil, err
				}
				return nil, fmt.Errorf("%w (after %d frames, %d decoded)", err, res.aus, res.decoded)
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(timeout)
			idx := res.aus
			res.aus++
			res.pts = append(res.pts, au.PTS)
			res.received = append(res.received, au.Received)
			if au.Keyframe {
				res.keyframes = append(res.keyframes, idx)
			}
			t0 := time.Now()
			pics, err := dec.DecodeAU(au)
			took := time.Since(t0)
			if err != nil {
				res.decodeErrors++
			}
			if len(pics) > 0 {
				res.decodeTimes = append(res.decodeTimes, took)
				if res.decoded == 0 {
					res.firstFrameWait = time.Since(begin)
				}
			}
			for _, p := range pics {
				p.Close()
			}
			res.decoded += len(pics)
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	res.state = ing.State()
	res.ingestStats = ing.Stats()
	res.decodeStats = dec.Stats()
	return res, nil
}

// Print writes the result for a person reading a terminal.
func (r *Result) Print(w io.Writer) {
	url, transport := r.url, r.transport
	p := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-10s %s\n", label, fmt.Sprintf(format, a...))
	}
	p("camera", "%s over %s", url, strings.ToUpper(transport))
	size := fmt.Sprintf("%dx%d", r.decodeStats.Width, r.decodeStats.Height)
	if r.state.Width != 0 && (r.state.Width != r.decodeStats.Width || r.state.Height != r.decodeStats.Height) {
		size += fmt.Sprintf(" (SPS says %dx%d)", r.state.Width, r.state.Height)
	}
	p("codec", "%s %s", r.state.Codec, size)
	p("frames", "%d decoded from %d access units in %v (first picture after %v); %d dropped, %d RTP packets lost, %d decode errors",
		r.decoded, r.aus, r.received[len(r.received)-1].Sub(r.received[0]).Round(time.Millisecond),
		r.firstFrameWait.Round(time.Millisecond), r.ingestStats.Dropped, r.ingestStats.PacketsLost, r.decodeErrors)
	p("fps", "%s by timestamps, %s by wall clock", rate(r.aus, r.pts[len(r.pts)-1]-r.pts[0]),
		rate(r.aus, r.received[len(r.received)-1].Sub(r.received[0])))
	p("keyframes", "%s", r.keyframeSummary())
	if len(r.decodeTimes) > 0 {
		mean, p95 := meanP95(r.decodeTimes)
		p("decode", "mean %s, p95 %s per frame", ms(mean), ms(p95))
	}
}

func (r *Result) keyframeSummary() string {
	k := r.keyframes
	switch len(k) {
	case 0:
		return fmt.Sprintf("none in %d frames", r.aus)
	case 1:
		return fmt.Sprintf("no second keyframe within %d frames (%v): probe more --frames to measure the interval; long intervals slow recovery after loss",
			r.aus-k[0], (r.pts[len(r.pts)-1] - r.pts[k[0]]).Round(time.Millisecond))
	}
	lo, hi := k[1]-k[0], k[1]-k[0]
	for j := 2; j < len(k); j++ {
		d := k[j] - k[j-1]
		lo, hi = min(lo, d), max(hi, d)
	}
	span := (r.pts[k[len(k)-1]] - r.pts[k[0]]) / time.Duration(len(k)-1)
	if lo == hi {
		return fmt.Sprintf("every %d frames (%v)", lo, span.Round(time.Millisecond))
	}
	return fmt.Sprintf("every %d to %d frames (mean %v)", lo, hi, span.Round(time.Millisecond))
}

// rate is frames per second over n frames spanning d (n-1 intervals).
func rate(n int, d time.Duration) string {
	if n < 2 || d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(n-1)/d.Seconds())
}

func meanP95(ds []time.Duration) (mean, p95 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	idx := (len(s)*95+99)/100 - 1 // nearest rank
	return sum / time.Duration(len(s)), s[max(idx, 0)]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
