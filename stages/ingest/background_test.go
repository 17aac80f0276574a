package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/stages/ingest"
)

// TestBackgroundStop stops a Background ingest while the camera streams and
// the reader has stopped reading: stop must return Run's nil (a cancel),
// having closed the channel, and the same again when called twice. goleak
// in TestMain fails the package if Run's goroutines outlive stop.
func TestBackgroundStop(t *testing.T) {
	t.Parallel()
	cam := startCamera(t, cameraOpts{})
	ing, err := ingest.New(ingest.Config{URL: cam.url("", ""), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	aus, stop := ing.Background(context.Background(), 1)
	select {
	case <-aus:
	case <-time.After(10 * time.Second):
		t.Fatalf("no access unit within 10 s; state %+v", ing.State())
	}
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stop = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return within 5 s")
	}
	if _, ok := <-aus; ok {
		t.Error("channel still open after stop")
	}
	if err := stop(); err != nil {
		t.Errorf("second stop = %v, want nil", err)
	}
}
