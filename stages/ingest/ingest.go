package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/redact"
)

// Statuses reported by State.
const (
	StatusConnecting = "connecting"
	StatusStreaming  = "streaming"
	StatusError      = "error"
)

// State is a snapshot of the connection, for health pages and probe.
type State struct {
	Status        string      // StatusConnecting, StatusStreaming or StatusError
	Reason        string      // why the last session failed; credentials redacted
	Codec         media.Codec // zero until a track was chosen
	Width, Height int         // from the SPS; zero until one was seen
	Since         time.Time   // when Status last changed
}

// Stats are running totals since New.
type Stats struct {
	Received     uint64 // access units decoded from RTP
	Delivered    uint64 // access units handed to the buffer
	Dropped      uint64 // access units dropped for a slow consumer (buffer full, then until the next keyframe)
	Stale        uint64 // access units dropped for a slow consumer because they waited longer than MaxAge (then until the next keyframe)
	Skipped      uint64 // access units skipped at session start, before the first keyframe
	PacketsLost  uint64 // RTP packets the client saw missing
	DecodeErrors uint64 // RTP packets or payloads that could not be decoded
	Reconnects   uint64 // sessions started after the first
	Bytes        uint64 // RTP payload bytes received
}

// Ingest pulls one camera stream. Create it with New and start it with Run.
type Ingest struct {
	cfg   Config
	url   *base.URL
	scrub *redact.Scrubber
	log   *slog.Logger

	mu    sync.Mutex
	state State

	received, delivered, dropped, skipped, stale atomic.Uint64
	lost, decodeErrors, reconnects, bytes        atomic.Uint64
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Ingest, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := base.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ingest: URL %s does not parse", redact.URL(cfg.URL))
	}
	i := &Ingest{
		cfg:   cfg,
		url:   u,
		scrub: scrubber(cfg.URL),
	}
	i.log = cfg.Logger.With("url", redact.URL(cfg.URL))
	i.state = State{Status: StatusConnecting, Since: time.Now()}
	return i, nil
}

// State returns the current connection state.
func (i *Ingest) State() State {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.state
}

// Stats returns the running totals.
func (i *Ingest) Stats() Stats {
	return Stats{
		Received:     i.received.Load(),
		Delivered:    i.delivered.Load(),
		Dropped:      i.dropped.Load(),
		Skipped:      i.skipped.Load(),
		Stale:        i.stale.Load(),
		PacketsLost:  i.lost.Load(),
		DecodeErrors: i.decodeErrors.Load(),
		Reconnects:   i.reconnects.Load(),
		Bytes:        i.bytes.Load(),
	}
}

func (i *Ingest) setStatus(status, reason string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.state.Status != status || i.state.Reason != reason {
		i.state.Since = time.Now()
	}
	i.state.Status, i.state.Reason = status, reason
}

func (i *Ingest) setTrack(c media.Codec, w, h int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.state.Codec, i.state.Width, i.state.Height = c, w, h
}

// Run pulls the stream into out until ctx is cancelled, reconnecting after
// any failure. It closes out when it returns. It returns nil on
// cancellation; with Config.Once it returns the first session's error
// instead of retrying (nil if that session ended by cancellation).
//
// Run never blocks the network reader on out: units wait in a buffer of
// Config.BufferSize; when it is full they are dropped until the next keyframe.
// Nor does a unit reach out older than Config.MaxAge: the backlog of a
// consumer that falls behind is dropped (Stale) up to the next keyframe,
// so that its latency stays bounded (give out little room: units waiting
// there are beyond this bound).
func (i *Ingest) Run(ctx context.Context, out chan<- media.AccessUnit) error {
	buf := make(chan media.AccessUnit, i.cfg.BufferSize)
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		i.forward(ctx, buf, out)
	}()
	err := i.loop(ctx, buf)
	// Every session's client is closed, so no callback can still push.
	close(buf)
	<-fwdDone
	close(out)
	return err
}

// forward passes units from buf to out until buf is closed or ctx is done,
// dropping those older than MaxAge (see Run).
func (i *Ingest) forward(ctx context.Context, buf <-chan media.AccessUnit, out chan<- media.AccessUnit) {
	if i.cfg.MaxAge < 0 {
		for au := range buf {
			select {
			case out <- au:
			case <-ctx.Done():
				return
			}
		}
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	waitKey := false // a unit was dropped as stale: skip to a keyframe
	for au := range buf {
		left := i.cfg.MaxAge - time.Since(au.Received)
		if (waitKey && !au.Keyframe) || left <= 0 {
			i.stale.Add(1)
			waitKey = true
			continue
		}
		timer.Reset(left)
		select {
		case out <- au:
			waitKey = false
		case <-timer.C:
			// It went stale waiting for the consumer.
			i.stale.Add(1)
			waitKey = true
		case <-ctx.Done():
			return
		}
	}
}

func (i *Ingest) loop(ctx context.Context, buf chan media.AccessUnit) error {
	attempt := 0
	lastReason := ""
	for n := 0; ; n++ {
		if n > 0 {
			i.reconnects.Add(1)
		}
		i.setStatus(StatusConnecting, i.State().Reason)
		delivered, err := i.session(ctx, buf)
		if ctx.Err() != nil {
			return nil //nolint:nilerr // cancelled: the session's error is only the cancellation
		}
		if err == nil {
			err = errors.New("stream ended")
		}
		i.setStatus(StatusError, err.Error())
		if i.cfg.Once {
			i.log.Warn("camera stream failed", "err", err)
			return err
		}
		if delivered {
			attempt = 0
		}
		wait := backoff(i.cfg.BackoffMin, i.cfg.BackoffMax, attempt)
		attempt++
		// One line per distinct failure: a camera that stays down for hours
		// must not flood the log.
		if err.Error() != lastReason {
			i.log.Warn("camera stream failed, reconnecting", "err", err, "retry_in", wait.Round(time.Millisecond))
			lastReason = err.Error()
		} else {
			i.log.Debug("camera stream still failing", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		if delivered {
			lastReason = ""
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// backoff returns a pause drawn uniformly from [0, min(max, min·2^attempt)]
// ("full jitter"), so cameras behind one failed switch do not reconnect in step.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	ceil := lo
	for k := 0; k < attempt && ceil < hi; k++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// session runs one RTSP session until it fails or ctx is cancelled. It
// reports whether any access unit was delivered, which resets the backoff.
func (i *Ingest) session(ctx context.Context, buf chan media.AccessUnit) (delivered bool, err error) {
	tr := gortsplib.TransportTCP
	if i.cfg.Transport == "udp" {
		tr = gortsplib.TransportUDP
	}
	c := &gortsplib.Client{
		Scheme:      i.url.Scheme,
		Host:        i.url.Host,
		Transport:   &tr,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		OnPacketsLost: func(n uint64) {
			i.lost.Add(n)
		},
		OnDecodeError: func(error) {
			i.decodeErrors.Add(1)
		},
		OnTransportSwitch: func(err error) {
			i.log.Info("camera transport switched", "err", i.scrub.Text(err.Error()))
		},
	}
	if err := c.Start2(); err != nil {
		return false, classify(err, i.scrub)
	}
	defer c.Close()
	// gortsplib's requests take no context: closing the client is what
	// unblocks a DESCRIBE or SETUP to a camera that does not answer.
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	desc, _, err := c.Describe(i.url)
	if err != nil {
		return false, classify(err, i.scrub)
	}
	medi, forma, codec, err := pickTrack(desc)
	if err != nil {
		return false, classify(err, i.scrub)
	}

	r := &receiver{ing: i, buf: buf, needKey: true, params: paramSets{codec: codec}}
	r.lastAU.Store(time.Now().UnixNano())
	// The SDP's parameter sets, if any, and the codec's RTP depacketizer.
	var dec interface {
		Decode(*rtp.Packet) ([][]byte, error)
	}
	switch f := forma.(type) {
	case *format.H264:
		sps, pps := f.SafeParams()
		r.params.set(naluSPS, sps)
		r.params.set(naluPPS, pps)
		dec, err = f.CreateDecoder()
	case *format.H265:
		vps, sps, pps := f.SafeParams()
		r.params.set(naluVPS, vps)
		r.params.set(naluSPS, sps)
		r.params.set(naluPPS, pps)
		dec, err = f.CreateDecoder()
	}
	if err != nil {
		return false, classify(err, i.scrub)
	}
	r.decode = dec.Decode
	i.setTrack(codec, r.params.width, r.params.height)

	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, classify(err, i.scrub)
	}
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS2(medi, pkt)
		r.onPacket(pkt, ticksToDuration(pts, forma.ClockRate()), ok)
	})
	if _, err := c.Play(nil); err != nil {
		return false, classify(err, i.scrub)
	}
	i.log.Info("camera stream playing", "codec", codec.String(), "transport", tr.String())

	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	tick := time.NewTicker(min(i.cfg.StallTimeout/4, time.Second))
	defer tick.Stop()
	droppedSeen, lastDropLog := i.dropped.Load()+i.stale.Load(), time.Time{}
	for {
		select {
		case err := <-waitErr:
			return r.delivered.Load(), classify(fmt.Errorf("connection lost: %w", err), i.scrub)
		case <-ctx.Done():
			return r.delivered.Load(), nil
		case <-tick.C:
			silent := time.Since(time.Unix(0, r.lastAU.Load()))
			if silent > i.cfg.StallTimeout {
				return r.delivered.Load(), fmt.Errorf("%w for %v", ErrStalled, silent.Round(time.Millisecond))
			}
			if r.delivered.Load() {
				i.setStatus(StatusStreaming, "")
			}
			// At most one line a second, however slow the consumer.
			if d := i.dropped.Load() + i.stale.Load(); d != droppedSeen && time.Since(lastDropLog) >= time.Second {
				i.log.Warn("consumer too slow, dropping access units until the next keyframe", "dropped", d-droppedSeen)
				droppedSeen, lastDropLog = d, time.Now()
			}
		}
	}
}

// pickTrack chooses the video track to pull: H.264 first, as every decoder
// handles it, else H.265.
func pickTrack(desc *description.Session) (*description.Media, format.Format, media.Codec, error) {
	var f264 *format.H264
	if m := desc.FindFormat(&f264); m != nil {
		return m, f264, media.H264, nil
	}
	var f265 *format.H265
	if m := desc.FindFormat(&f265); m != nil {
		return m, f265, media.H265, nil
	}
	var video, others []string
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			if m.Type == description.MediaTypeVideo {
				video = append(video, f.Codec())
			} else {
				others = append(others, string(m.Type)+" "+f.Codec())
			}
		}
	}
	if len(video) == 0 {
		return nil, nil, 0, fmt.Errorf("%w (found: %v)", ErrNoVideoTrack, others)
	}
	return nil, nil, 0, fmt.Errorf("%w (found video: %v)", ErrUnsupportedCodec, video)
}

func ticksToDuration(ticks int64, clockRate int) time.Duration {
	cr := int64(clockRate)
	if cr <= 0 {
		return 0
	}
	// Split to avoid overflowing ticks·1e9 on long-running streams.
	return time.Duration(ticks/cr)*time.Second + time.Duration(ticks%cr)*time.Second/time.Duration(cr)
}

// receiver turns one session's RTP packets into access units. onPacket runs
// on gortsplib's read goroutine and must never block.
type receiver struct {
	ing     *Ingest
	buf     chan media.AccessUnit
	decode  func(*rtp.Packet) ([][]byte, error)
	params  paramSets
	needKey bool // set at session start and after a drop
	dropped bool // needKey was set by a drop, not by the session start

	lastAU    atomic.Int64 // unix nanoseconds of the last decoded unit
	delivered atomic.Bool
}

func (r *receiver) onPacket(pkt *rtp.Packet, pts time.Duration, ptsOK bool) {
	i := r.ing
	i.bytes.Add(uint64(len(pkt.Payload)))
	au, err := r.decode(pkt)
	if err != nil {
		if !isExpectedDecodeErr(err) {
			i.decodeErrors.Add(1)
		}
		return
	}
	if !ptsOK {
		// No timestamp yet (waiting for the stream's time reference).
		return
	}
	nalus, key, sizeChanged := r.params.assemble(au)
	if len(nalus) == 0 {
		return
	}
	now := time.Now()
	r.lastAU.Store(now.UnixNano())
	i.received.Add(1)
	if sizeChanged {
		i.setTrack(r.params.codec, r.params.width, r.params.height)
	}
	if r.needKey && !key {
		if r.dropped {
			i.dropped.Add(1)
		} else {
			i.skipped.Add(1)
		}
		return
	}
	unit := media.AccessUnit{Codec: r.params.codec, NALUs: nalus, PTS: pts, Keyframe: key, Received: now}
	select {
	case r.buf <- unit:
		r.needKey, r.dropped = false, false
		i.delivered.Add(1)
		if !r.delivered.Swap(true) {
			i.setStatus(StatusStreaming, "")
		}
	default:
		// A P frame without its reference decodes to garbage, so once one
		// unit is lost everything waits for the next keyframe.
		i.dropped.Add(1)
		r.needKey, r.dropped = true, true
	}
}

func isExpectedDecodeErr(err error) bool {
	return errors.Is(err, rtph264.ErrMorePacketsNeeded) ||
		errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) ||
		errors.Is(err, rtph265.ErrMorePacketsNeeded) ||
		errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious)
}
