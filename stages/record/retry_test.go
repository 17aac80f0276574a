package record_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/record"
)

// TestWriteErrorIsRetried: a segment that cannot be created (the camera's
// folder replaced by a file) is counted as a failure and does not stop the
// recorder: once the folder can be made again, after the retry pause, a new
// segment is recorded without a reload.
func TestWriteErrorIsRetried(t *testing.T) {
	testclip.Need(t)
	dir := t.TempDir()
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	camDir := filepath.Join(dir, "cam")
	if err := os.Remove(camDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(camDir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	enc, err := encode.New(encode.Config{Width: 160, Height: 120, FPS: 10, GOP: 200 * time.Millisecond, BitrateKbps: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	units := make(chan media.AccessUnit, record.QueueSize)
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx, units) }()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; rec.Stats().Written < 5; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: recording did not resume after the failure", rec.Stats())
		}
		if i == 5 {
			for rec.Stats().Failures == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if err := os.Remove(camDir); err != nil { // the disk is fixed
				t.Fatal(err)
			}
		}
		feedSized(t, enc, units, i, 160, 120)
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	st := rec.Stats()
	files, _ := filepath.Glob(filepath.Join(camDir, "*.mp4"))
	if st.Failures != 1 || len(files) != 1 {
		t.Fatalf("stats %+v, segments %v: want one failure and one segment after it", st, files)
	}
	t.Logf("stats %+v", st)
}
