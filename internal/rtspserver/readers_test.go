package rtspserver_test

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/edgeprivacy/edge/internal/rtspserver"
)

// newStream starts a Server whose path "lobby" plays the returned stream.
func newStream(t *testing.T) (*rtspserver.Server, *gortsplib.ServerStream, *description.Media) {
	t.Helper()
	var stream atomic.Pointer[gortsplib.ServerStream]
	s, err := rtspserver.New(rtspserver.Config{Name: "test", Addr: "127.0.0.1:0",
		Lookup: func(path string) (*gortsplib.ServerStream, error) {
			if path != "lobby" {
				return nil, errors.New("unknown")
			}
			return stream.Load(), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	medi := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}}}
	st := &gortsplib.ServerStream{Server: s.Inner(), Desc: &description.Session{Medias: []*description.Media{medi}}}
	if err := st.Initialize(); err != nil {
		t.Fatal(err)
	}
	stream.Store(st)
	return s, st, medi
}

// play connects a gortsplib client over TCP to url and plays it; received
// counts its RTP packets.
func play(t *testing.T, url string, received *atomic.Int64) *gortsplib.Client {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.TransportTCP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
	if err := c.Start2(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	d, _, err := c.Describe(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetupAll(d.BaseURL, d.Medias); err != nil {
		t.Fatal(err)
	}
	c.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { received.Add(1) })
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCloseStreamWaitsForReaders: two clients play a stream fed
// continuously; CloseStream returns once the server has ended both
// sessions (none is left playing), well within its bound, and the clients
// see their sessions end.
func TestCloseStreamWaitsForReaders(t *testing.T) {
	s, st, medi := newStream(t)
	url := rtspserver.PlayURL(s.Addr(), "lobby")
	var got [2]atomic.Int64
	clients := []*gortsplib.Client{play(t, url, &got[0]), play(t, url, &got[1])}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Marker: true}, Payload: []byte{0x65, 1, 2, 3}}
			_ = st.WritePacketRTP(medi, pkt) // fails once the stream is closed
		}
	}()
	defer wg.Wait()
	defer close(stop)
	deadline := time.Now().Add(10 * time.Second)
	for got[0].Load() == 0 || got[1].Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the clients got %d and %d packets: not playing", got[0].Load(), got[1].Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := rtspserver.Readers(s); n != 2 {
		t.Fatalf("%d sessions known to play, want 2", n)
	}

	start := time.Now()
	if err := s.CloseStream(st, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if n := rtspserver.Readers(s); n != 0 {
		t.Fatalf("CloseStream returned with %d sessions of the stream still open", n)
	}
	if took > time.Second {
		t.Errorf("CloseStream took %v", took)
	}
	for i, c := range clients {
		ended := make(chan error, 1)
		go func() { ended <- c.Wait() }()
		select {
		case err := <-ended:
			t.Logf("client %d: session ended after %v: %v", i, time.Since(start), err)
		case <-time.After(2 * time.Second):
			t.Fatalf("client %d still playing 2 s after CloseStream returned", i)
		}
	}
	if err := s.CloseStream(nil, time.Second); err != nil {
		t.Fatalf("CloseStream(nil) = %v", err)
	}
}

// TestCloseStreamIsBounded: a session that does not end keeps CloseStream
// waiting only until its timeout, and the error says so.
func TestCloseStreamIsBounded(t *testing.T) {
	s, st, _ := newStream(t)
	client, end := rtspserver.AddStuckReader(s, st)
	defer end()
	defer client.Close()
	start := time.Now()
	err := s.CloseStream(st, 100*time.Millisecond)
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "1 of 1 sessions") || took < 100*time.Millisecond || took > 2*time.Second {
		t.Fatalf("CloseStream with a session that never ends = %v after %v; want the timeout's error after 100 ms", err, took)
	}
	// Fail closed: the stuck session's connection is gone, so nothing
	// queued under the old zones can still reach that client.
	_ = client.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the stuck session's connection after CloseStream: read gave %v, want EOF (closed)", err)
	}
}
