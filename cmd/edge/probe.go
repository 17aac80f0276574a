package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// cmdProbe is `edge probe URL [--frames N] [--transport tcp|udp] [--timeout 10s]`:
// it connects to a camera once, decodes a few frames and prints what an
// operator needs before adding the camera (codec, size, frame rate, keyframe
// interval, decode cost). It fails with the reason when the camera cannot be
// used.
func cmdProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	frames := fs.Int("frames", 50, "decode `N` pictures")
	transport := fs.String("transport", "tcp", "RTSP transport: tcp or udp")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long without a frame (connecting included)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: edge probe URL [--frames N] [--transport tcp|udp] [--timeout 10s]")
		fs.PrintDefaults()
	}
	// Accept the URL before or after the flags.
	var url string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		url, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if url == "" && fs.NArg() > 0 {
		url = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if url == "" || fs.NArg() > 0 {
		fs.Usage()
		return &exitError{2, errors.New("give exactly one camera URL")}
	}
	if *frames < 1 {
		return &exitError{2, fmt.Errorf("--frames %d: give at least 1", *frames)}
	}
	if *timeout <= 0 {
		return &exitError{2, fmt.Errorf("--timeout %v: give a positive duration", *timeout)}
	}

	ing, err := ingest.New(ingest.Config{
		URL:          url,
		Transport:    *transport,
		BufferSize:   *frames + 10, // probe reads as fast as it decodes; never drop
		StallTimeout: *timeout,
		Once:         true,
		// Probe reports the failure itself, once, with the fix.
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	dec, err := decode.New(decode.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer dec.Close()

	res, err := probe(ctx, ing, dec, *frames, *timeout)
	if err != nil {
		return fmt.Errorf("probe %s: %w", configs.RedactURL(url), err)
	}
	res.print(os.Stdout, configs.RedactURL(url), *transport)
	return nil
}

// probeResult is what probe measured.
type probeResult struct {
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

func probe(ctx context.Context, ing *ingest.Ingest, dec *decode.Decoder, want int, timeout time.Duration) (*probeResult, error) {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	aus := make(chan ingest.AccessUnit, 8)
	runErr := make(chan error, 1)
	go func() { runErr <- ing.Run(ictx, aus) }()
	// Stop ingest and wait for it on every return path: its goroutines must
	// not outlive the command.
	finish := func() error {
		cancel()
		for range aus {
		}
		return <-runErr
	}

	res := &probeResult{}
	begin := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for res.decoded < want {
		select {
		case <-ctx.Done():
			finish()
			return nil, ctx.Err()
		case <-timer.C:
			finish()
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
				err := <-runErr
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
				p.Mat.Close()
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

func (r *probeResult) print(w io.Writer, url, transport string) {
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

func (r *probeResult) keyframeSummary() string {
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
