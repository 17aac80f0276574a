package record_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/record"
)

// childEnv makes the test binary a recorder process (see runChild).
const childEnv = "EDGE_RECORD_TEST_CHILD_DIR"

// readyFrames pictures (1.2 s at 25 fps, three GOPs) are fed before the
// child prints readyLine, so the file holds well over the 10 frames checked.
const (
	readyFrames = 30
	readyLine   = "recording"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

// runChild records synthetic pictures at 25 fps until SIGTERM, the way
// `edge run` does: the signal cancels the context, Run finishes the file.
func runChild(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Minute})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	units := make(chan media.AccessUnit, record.QueueSize)
	go func() { done <- rec.Run(ctx, units) }()
	enc, err := encode.New(encode.Config{Width: 320, Height: 240, FPS: 25, GOP: 400 * time.Millisecond, BitrateKbps: 2000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer enc.Close()
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		select {
		case <-tick.C:
		case <-ctx.Done():
			continue
		}
		feed(enc, units, i, 40*time.Millisecond)
		if i == readyFrames {
			// Tells the parent that enough fragments are on disk to signal
			// us; a fixed sleep there flaked when a loaded machine started us late.
			fmt.Println(readyLine)
		}
	}
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func feed(enc *encode.Encoder, c chan<- media.AccessUnit, i int, step time.Duration) {
	pic := make([]byte, 320*240*3)
	for j := range pic {
		pic[j] = byte(j/3 + i*7)
	}
	pkts, err := enc.Encode(pic, 320*3, time.Duration(i)*step)
	if err != nil {
		panic(err)
	}
	for _, p := range pkts {
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(p.Data); err != nil {
			panic(err)
		}
		c <- media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: 320, Height: 240}
	}
}

// TestSegmentCutBySignalIsPlayable runs a recorder process, stops it
// mid-segment and has ffprobe (not our code) decode the file.
func TestSegmentCutBySignalIsPlayable(t *testing.T) {
	testclip.Need(t)
	for _, c := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM finishes the file", syscall.SIGTERM},
		{"SIGKILL leaves the fragments written", syscall.SIGKILL},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if sc.Text() == readyLine {
						ready <- true
					}
				}
				close(ready)
			}()
			select {
			case ok := <-ready:
				if !ok {
					_ = cmd.Wait()
					t.Fatalf("recorder exited before it was ready: %s", stderr.String())
				}
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("recorder not ready after 60 s: %s", stderr.String())
			}
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			if c.sig == syscall.SIGTERM && err != nil {
				t.Fatalf("recorder exited with %v: %s", err, stderr.String())
			}
			files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
			if len(files) != 1 {
				t.Fatalf("want 1 segment, got %v", files)
			}
			out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
				"-show_entries", "stream=codec_name,width,nb_read_frames", "-of", "csv=p=0", files[0]).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v: %s", err, out)
			}
			fields := strings.Split(strings.TrimSpace(string(out)), ",")
			if len(fields) != 3 || fields[0] != "h264" || fields[1] != "320" {
				t.Fatalf("ffprobe says %q (errors are printed too), want h264,320,N", out)
			}
			n, err := strconv.Atoi(fields[2])
			if err != nil || n < 10 {
				t.Fatalf("ffprobe decoded %q frames, want at least 10 of about 60", fields[2])
			}
			t.Logf("%s: %d frames", filepath.Base(files[0]), n)
		})
	}
}

func TestSegmentsAndRetention(t *testing.T) {
	testclip.Need(t)
	cases := []struct {
		name     string
		maxBytes int64
		maxAge   time.Duration
		wantMax  int // files left at most
		wantMin  int
	}{
		{"no limits keep every segment", 0, 0, 5, 5},
		{"byte cap keeps only the newest", 1, 0, 1, 1},
		{"age limit", 0, 2500 * time.Millisecond, 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			// A fake clock: each picture is 100 ms of stream and of wall time.
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			var frame atomic.Int64
			clock := func() time.Time { return now.Add(time.Duration(frame.Load()) * 100 * time.Millisecond) }
			// Deletions are told to OnDelete (the audit log's record), on
			// the recorder's goroutine: read only after Run returns.
			type deletion struct {
				path  string
				bytes int64
				age   time.Duration
			}
			var deleted []deletion
			onDelete := func(path string, bytes int64, age time.Duration) {
				deleted = append(deleted, deletion{path, bytes, age})
			}
			rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Second, MaxBytes: c.maxBytes, MaxAge: c.maxAge, Now: clock, OnDelete: onDelete})
			if err != nil {
				t.Fatal(err)
			}
			enc, err := encode.New(encode.Config{Width: 320, Height: 240, FPS: 10, GOP: time.Second, BitrateKbps: 2000})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			units := make(chan media.AccessUnit, record.QueueSize)
			go func() { done <- rec.Run(ctx, units) }()
			for i := 0; i < 50; i++ {
				frame.Store(int64(i))
				feed(enc, units, i, 100*time.Millisecond)
				// Let the writer keep up, so nothing is dropped, and age the
				// finished files on the fake clock.
				for deadline := time.Now().Add(5 * time.Second); rec.Stats().Written+rec.Stats().Dropped < uint64(i+1) && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
				for _, f := range files {
					if fi, err := os.Stat(f); err == nil && fi.ModTime().After(clock()) {
						_ = os.Chtimes(f, clock(), clock())
					}
				}
			}
			frame.Store(50)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
			st := rec.Stats()
			t.Logf("%d files, stats %+v", len(files), st)
			if st.Written != 50 || st.Segments != 5 {
				t.Errorf("stats %+v, want 50 written in 5 segments", st)
			}
			if len(files) < c.wantMin || len(files) > c.wantMax {
				t.Errorf("%d files left, want %d..%d", len(files), c.wantMin, c.wantMax)
			}
			for _, f := range files {
				if n := testclip.CountFrames(t, f); n != 10 {
					t.Errorf("%s: %d frames, want 10", filepath.Base(f), n)
				}
			}
			if len(deleted) != int(st.Deleted) || len(deleted)+len(files) != 5 {
				t.Errorf("OnDelete told of %d deletions, stats %d, %d files left of 5: every deletion must reach the audit log", len(deleted), st.Deleted, len(files))
			}
			for _, d := range deleted {
				if _, err := os.Stat(d.path); !os.IsNotExist(err) || d.bytes <= 0 || d.age < 0 || (c.maxAge > 0 && d.age <= c.maxAge) {
					t.Errorf("deletion %+v: want a removed file with its size and an age over %v", d, c.maxAge)
				}
			}
		})
	}
}
