package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
)

// Environment of the helper process that appends to a log of its own.
const (
	envWriterDir = "EDGE_AUDIT_TEST_WRITER_DIR"
	envWriterKey = "EDGE_AUDIT_TEST_WRITER_KEY"
	envWriterN   = "EDGE_AUDIT_TEST_WRITER_N"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envWriterDir); dir != "" {
		if err := writer(dir, os.Getenv(envWriterKey), os.Getenv(envWriterN)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writer is the second process: it appends n records and a checkpoint
// every ten, as `edge verify` appends its report records beside a live run.
func writer(dir, keyPath, ns string) error {
	n, err := strconv.Atoi(ns)
	if err != nil {
		return err
	}
	key, _, err := devicekey.LoadOrCreate(keyPath)
	if err != nil {
		return err
	}
	l, err := audit.Open(audit.Config{Dir: dir, Key: key, MaxBytes: 4096})
	if err != nil {
		return err
	}
	for i := range n {
		if err := l.Write("report", map[string]int{"i": i, "pid": os.Getpid()}); err != nil {
			return err
		}
		if i%10 == 9 {
			if err := l.Checkpoint(audit.ReasonPeriodic); err != nil {
				return err
			}
		}
	}
	return l.Close()
}

// TestTwoLogsInOneFolder: a second writer opened on the folder of a live
// one (edge verify beside edge run) appends, the first writes on, and the
// chain stays whole. Without the shared lock and catch-up the live log's
// next record names a stale prev.
func TestTwoLogsInOneFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	key := newKey(t)
	live, err := audit.Open(audit.Config{Dir: dir, Key: key, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(live.Write("start", nil))
	must(live.Checkpoint(audit.ReasonStart))
	verifier, err := audit.Open(audit.Config{Dir: dir, Key: key, Now: clock()})
	must(err)
	must(verifier.Write("report", map[string]string{"verdict": "PASS"}))
	must(verifier.Checkpoint("report"))
	must(verifier.Close())
	must(live.Write("event", map[string]int{"i": 1}))
	must(live.Write("stop", nil))
	must(live.Checkpoint(audit.ReasonStop))
	must(live.Close())
	s, err := verifyDir(t, dir)
	if err != nil {
		t.Fatalf("chain broken after a second writer: %v", err)
	}
	if s.Records != 7 || s.Uncovered != 0 {
		t.Fatalf("summary %+v, want 7 records all covered", s)
	}
}

// TestConcurrentProcesses: this process and two others append at once, with
// small files so that rotation happens under every writer; every record is
// in one whole chain.
func TestConcurrentProcesses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	keyPath := filepath.Join(t.TempDir(), "device.key")
	key, _, err := devicekey.LoadOrCreate(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	live, err := audit.Open(audit.Config{Dir: dir, Key: key, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const n, procs = 150, 2
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for range procs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envWriterDir+"="+dir, envWriterKey+"="+keyPath, envWriterN+"="+strconv.Itoa(n))
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("writer process: %w\n%s", err, out)
			}
		})
	}
	for i := range n {
		if err := live.Write("event", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := live.Checkpoint(audit.ReasonStop); err != nil {
		t.Fatal(err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := verifyDir(t, dir)
	if err != nil {
		t.Fatalf("chain broken with %d processes writing: %v", procs+1, err)
	}
	want := n + procs*(n+n/10) + 1
	if s.Records != want || s.Files < 3 {
		t.Fatalf("summary %+v, want %d records in several files", s, want)
	}
}

// TestLockHeldFailsBounded: a writer that holds audit.lock and never lets
// go (a suspended `edge verify`) makes an append fail after LockWait with
// an error naming the lock, instead of blocking it for ever; once the
// lock is free again the append goes through.
func TestLockHeldFailsBounded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	l, err := audit.Open(audit.Config{Dir: dir, Key: newKey(t), Now: clock(), LockWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	other, err := os.OpenFile(filepath.Join(dir, audit.LockName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- l.Write("report", map[string]int{"i": 1}) }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write still blocked 10s after another writer took audit.lock")
	}
	if err == nil || !errors.Is(err, syscall.EWOULDBLOCK) || !strings.Contains(err.Error(), audit.LockName) {
		t.Fatalf("Write with audit.lock held: err %v, want EWOULDBLOCK naming %s", err, audit.LockName)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("Write gave up after %s, before LockWait", d)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := l.Write("report", map[string]int{"i": 2}); err != nil {
		t.Fatalf("Write after the lock was released: %v", err)
	}
}
