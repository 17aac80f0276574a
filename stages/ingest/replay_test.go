package ingest_test

import (
	"os"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/stages/ingest"
)

// TestAgainstReplay pulls the project's own fake camera (`edge replay`)
// serving the checked-in test clip, with credentials, as an operator would.
func TestAgainstReplay(t *testing.T) {
	t.Parallel()
	const clip = "../../testvideos/vtest.mp4"
	if _, err := os.Stat(clip); err != nil {
		t.Skipf("test clip missing: %v", err)
	}
	srv, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{clip}, Username: "admin", Password: "Replay-Pa55"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	r := start(t, ingest.Config{URL: "rtsp://admin:Replay-Pa55@" + srv.Addr() + "/vtest", Logger: quietLogger()}, 32)
	for n := 0; n < 15; n++ {
		au := r.next(t, 10*time.Second)
		if n == 0 && !au.Keyframe {
			t.Fatal("first AU is not a keyframe")
		}
		if au.Keyframe {
			if ty := naluTypes(media.H264, au); len(ty) < 3 || ty[0] != 7 || ty[1] != 8 {
				t.Fatalf("keyframe NALU types %v, want SPS, PPS first", ty)
			}
		}
	}
	st := r.ing.State()
	if st.Codec != media.H264 || st.Width != 768 || st.Height != 576 {
		t.Errorf("State = %+v, want H.264 768x576", st)
	}
	r.stop(t)
}
