package replay

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"
)

const (
	// maxLag is how far behind schedule the streamer may fall (a stalled
	// disk, a suspended machine) before it reschedules instead of bursting
	// the backlog, which no camera does.
	maxLag = time.Second
	// retryPause spaces reopen attempts when a file can no longer be read.
	retryPause = time.Second
)

// rtpEncoder is what rtph264.Encoder and rtph265.Encoder have in common.
type rtpEncoder interface {
	Encode(au [][]byte) ([]*rtp.Packet, error)
}

// streamer writes one clip, looped, into one ServerStream.
type streamer struct {
	clip   *clip
	stream *gortsplib.ServerStream
	media  *description.Media
	enc    rtpEncoder
	log    *slog.Logger
}

func newStreamer(c *clip, stream *gortsplib.ServerStream, log *slog.Logger) (*streamer, error) {
	media := stream.Desc.Medias[0]
	var enc rtpEncoder
	var err error
	switch f := media.Formats[0].(type) {
	case *format.H264:
		enc, err = f.CreateEncoder()
	case *format.H265:
		enc, err = f.CreateEncoder()
	default:
		err = fmt.Errorf("format %T", f)
	}
	if err != nil {
		return nil, fmt.Errorf("replay: %s: RTP encoder: %w", c.path, err)
	}
	return &streamer{clip: c, stream: stream, media: media, enc: enc, log: log}, nil
}

// run streams until ctx is cancelled. Each loop of the file is shifted by
// the time already streamed, so timestamps never go back.
func (s *streamer) run(ctx context.Context) {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	rtpBase := binary.BigEndian.Uint32(b[:])
	clock := int64(s.media.Formats[0].ClockRate())

	start := time.Now()
	var offset time.Duration // stream time at which the current pass began
	// Go 1.23 timers need no draining before Reset.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	for loops := 0; ; loops++ {
		var end time.Duration // end of the last access unit sent in this pass
		sent := 0
		err := s.clip.demux.pass(ctx, func(au accessUnit) error {
			due := start.Add(offset + au.dts)
			if wait := time.Until(due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-ctx.Done():
					timer.Stop()
					return ctx.Err()
				}
			} else if -wait > maxLag {
				s.log.Debug("replay fell behind, rescheduling", "path", s.clip.name, "lag", -wait)
				start = start.Add(-wait)
			}

			nalus := s.clip.params.prepare(au.nalus)
			if len(nalus) == 0 {
				return nil
			}
			pkts, err := s.enc.Encode(nalus)
			if err != nil {
				return fmt.Errorf("replay: %s: RTP encode: %w", s.clip.path, err)
			}
			pts := offset + au.pts
			ts := uint32(int64(rtpBase) + ticks(pts, clock))
			ntp := start.Add(pts)
			for _, pkt := range pkts {
				pkt.Timestamp = ts
				if err := s.stream.WritePacketRTPWithNTP(s.media, pkt, ntp); err != nil {
					return fmt.Errorf("replay: %s: write RTP: %w", s.clip.path, err)
				}
			}
			end = au.dts + au.dur
			sent++
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		offset += end
		if err != nil || sent == 0 {
			if err == nil {
				err = fmt.Errorf("replay: %s: no frames to send", s.clip.path)
			}
			s.log.Warn("replay pass failed, retrying", "path", s.clip.name, "error", err, "retry_in", retryPause)
			timer.Reset(retryPause)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
			// Keep the clock running across the pause, like a camera would.
			offset = max(offset, time.Since(start))
			continue
		}
		s.log.Debug("replay looped", "path", s.clip.name, "loop", loops+1)
	}
}
