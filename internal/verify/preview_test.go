package verify_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/internal/verify"
)

// TestPreviewLive takes the preview's frame from the camera's own URL: the
// replay server streaming testvideos/vtest.mp4 (768x576) on loopback, named
// in a copy of configs/demo.yaml. The PNG must have the stream's size, and
// the ingest behind it must be stopped when Preview returns (goleak in
// TestMain).
func TestPreviewLive(t *testing.T) {
	srv, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/vtest.mp4"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "edge.yaml")
	yaml := strings.Replace(string(demo), "url: rtsp://127.0.0.1:8554/vtest", "url: "+srv.URLs()[0], 1)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := verify.Preview(ctx, verify.PreviewConfig{ConfigPath: cfgPath, Camera: "lobby", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != 768 || got.Y != 576 {
		t.Errorf("preview is %v, want 768x576 (the stream's size)", got)
	}
}
