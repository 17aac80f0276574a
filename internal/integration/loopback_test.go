package integration_test

import (
	"fmt"
	"image"
	"math"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// TestLoopback serves test clips with our replay server (the server behind
// `edge replay`) and receives them with ingest and decode over TCP and UDP.
// Over one clip period the decoded frame count must be within 2% of
// ffprobe's count for the clip, at the clip's resolution.
//
// Replay loops the clip with ever-increasing timestamps, so the test counts
// the frames whose PTS lies in [pts0, pts0+period) from the first decoded
// (key)frame: any window of one period holds exactly one clip's worth.
func TestLoopback(t *testing.T) {
	t.Parallel()
	needFile(t, syntheticClip)
	needFile(t, vtestClip)
	clips := []struct {
		name string // the RTSP path replay serves the file under
		path string
	}{
		{"synthetic-walk", syntheticClip},
		{"vtest-cut", vtestCut(t, "vtest-cut", 5)},
	}
	infos := map[string]clipInfo{}
	var paths []string
	for _, c := range clips {
		infos[c.name] = probe(t, c.path)
		paths = append(paths, c.path)
	}
	rtpPort := freeport.UDPPair(t)
	srv, err := replay.New(replay.Config{
		Addr:           "127.0.0.1:0",
		Paths:          paths,
		UDPRTPAddress:  fmt.Sprintf("127.0.0.1:%d", rtpPort),
		UDPRTCPAddress: fmt.Sprintf("127.0.0.1:%d", rtpPort+1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	for _, c := range clips {
		for _, transport := range []string{"tcp", "udp"} {
			t.Run(c.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				info := infos[c.name]
				period := time.Duration(float64(info.frames) / info.fps * float64(time.Second))
				p := startPipe(t, ingest.Config{URL: "rtsp://" + srv.Addr() + "/" + c.name, Transport: transport})

				first := p.next(t, 10*time.Second)
				pts0 := first.PTS
				w, h := first.Pic.Size().X, first.Pic.Size().Y
				first.Close()
				count, wrongSize := 1, 0
				deadline := time.Now().Add(period + 10*time.Second)
				for {
					f := p.next(t, time.Until(deadline))
					pts := f.PTS
					if f.Pic.Size() != image.Pt(info.width, info.height) {
						wrongSize++
					}
					f.Close()
					if pts >= pts0+period {
						break
					}
					if pts >= pts0 {
						count++
					}
				}
				p.stop(t)

				if w != info.width || h != info.height || wrongSize > 0 {
					t.Errorf("first frame %dx%d, %d later frames of another size; ffprobe says %dx%d",
						w, h, wrongSize, info.width, info.height)
				}
				diff := math.Abs(float64(count-info.frames)) / float64(info.frames)
				t.Logf("%s over %s: %d frames decoded in one period of %v, ffprobe counts %d (%.1f%% off); ingest %+v; decode %+v",
					c.name, transport, count, period, info.frames, 100*diff, p.ing.Stats(), p.dec.Stats())
				if diff > 0.02 {
					t.Errorf("decoded %d frames in one clip period, ffprobe counts %d: more than 2%% apart", count, info.frames)
				}
				if st := p.ing.State(); st.Codec != media.H264 {
					t.Errorf("ingest codec %v, want H.264", st.Codec)
				}
			})
		}
	}
}
