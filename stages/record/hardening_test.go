package record_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/record"
)

// feedSized encodes picture i of a w x h stream and hands its units to c.
func feedSized(t *testing.T, enc *encode.Encoder, c chan<- media.AccessUnit, i, w, h int) {
	t.Helper()
	pic := make([]byte, w*h*3)
	for j := range pic {
		pic[j] = byte(j/3 + i*7)
	}
	pkts, err := enc.Encode(pic, w*3, time.Duration(i)*100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(p.Data); err != nil {
			t.Fatal(err)
		}
		c <- media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: w, Height: h}
	}
}

// TestResolutionChangeCutsSegment switches 320x240 to 160x120 mid-segment:
// each size must land in a file of its own, whose header says that size.
func TestResolutionChangeCutsSegment(t *testing.T) {
	testclip.Need(t)
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var n int
	clock := func() time.Time { n++; return now.Add(time.Duration(n) * time.Second) }
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	units := make(chan media.AccessUnit, record.QueueSize)
	go func() { done <- rec.Run(ctx, units) }()
	i := 0
	for _, sz := range [][2]int{{320, 240}, {160, 120}} {
		enc, err := encode.New(encode.Config{Width: sz[0], Height: sz[1], FPS: 10, GOP: time.Second, BitrateKbps: 2000})
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 15; k++ {
			feedSized(t, enc, units, i, sz[0], sz[1])
			i++
			for deadline := time.Now().Add(5 * time.Second); rec.Stats().Written+rec.Stats().Dropped < uint64(i) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
		enc.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
	slices.Sort(files)
	if len(files) != 2 {
		t.Fatalf("%d files after a resolution change, want 2: %v", len(files), files)
	}
	for k, want := range []string{"320x240", "160x120"} {
		if got := testclip.Size(t, files[k]); got != want {
			t.Errorf("segment %d is %s, want %s", k, got, want)
		}
		if nf := testclip.CountFrames(t, files[k]); nf != 15 {
			t.Errorf("segment %d holds %d frames, want 15", k, nf)
		}
	}
}

// TestRecordingModes: segments 0640 and folders 0750 under a umask of 0,
// and a recording folder that already exists wide open is tightened.
func TestRecordingModes(t *testing.T) {
	testclip.Need(t)
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "cam"), 0o777); err != nil {
		t.Fatal(err)
	}
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encode.New(encode.Config{Width: 160, Height: 120, FPS: 10, BitrateKbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	units := make(chan media.AccessUnit, record.QueueSize)
	go func() { done <- rec.Run(ctx, units) }()
	for i := 0; i < 5; i++ {
		feedSized(t, enc, units, i, 160, 120)
	}
	for deadline := time.Now().Add(5 * time.Second); rec.Stats().Written < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
	if len(files) != 1 {
		t.Fatalf("files %v, want 1", files)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o750}, {filepath.Join(dir, "cam"), 0o750}, {files[0], 0o640}} {
		info, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != c.want {
			t.Errorf("%s is %v, want %v", strings.TrimPrefix(c.path, dir), got, c.want)
		}
	}
}
