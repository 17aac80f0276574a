package compliance_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/edgetest"
)

// atomicPausable is a Pausable read by the test while Check runs.
type atomicPausable struct{ paused atomic.Bool }

func (p *atomicPausable) Pause()  { p.paused.Store(true) }
func (p *atomicPausable) Resume() { p.paused.Store(false) }

// TestGateClosesWhileAuditLockHeld: another process holds audit.lock (a
// suspended `edge verify`) when the camera sign expires. The outputs must
// still go off at once and Register must not wait on the log; the lost
// records are alerted. Writing the audit record first, under the monitor's
// lock, left the gate open for as long as the other writer held on.
func TestGateClosesWhileAuditLockHeld(t *testing.T) {
	cfg, err := configs.LoadBytes([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key, _, err := devicekey.LoadOrCreate(filepath.Join(dir, "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	const wait = 2 * time.Second
	log, err := audit.Open(audit.Config{Dir: filepath.Join(dir, "audit"), Key: key, Now: clock, LockWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	s := &edgetest.Sink{}
	m := compliance.New(compliance.Config{Sink: s, Audit: log, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p := &atomicPausable{}
	g := m.Register("a", map[string]compliance.Pausable{"restream": p})
	m.Apply(cfg)
	if !g.Open() || p.paused.Load() {
		t.Fatal("gate closed while the camera sign is valid")
	}

	other, err := os.OpenFile(filepath.Join(dir, "audit", audit.LockName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	now.Store(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC).UnixNano()) // sign expired 2026-03-10
	checked := make(chan struct{})
	go func() { m.Check(); close(checked) }()

	deadline := time.Now().Add(wait / 2)
	for g.Open() || !p.paused.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("gate still open %s after the sign expired, with audit.lock held elsewhere", wait/2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	registered := make(chan struct{})
	go func() {
		m.Register("b", map[string]compliance.Pausable{"record": &atomicPausable{}})
		close(registered)
	}()
	select {
	case <-registered:
	case <-time.After(wait / 2):
		t.Fatal("Register blocked behind an audit write waiting for audit.lock")
	}

	select {
	case <-checked:
	case <-time.After(30 * time.Second):
		t.Fatal("Check did not return 30s after audit.lock was taken: the wait for it is not bounded")
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	var alerted bool
	for _, msg := range s.Messages() {
		if a, ok := msg.(events.Alert); ok && a.Type == events.AlertAuditFailed {
			alerted = true
		}
	}
	if !alerted {
		t.Error("no audit_failed alert for the records the held lock kept out")
	}
	if g.Open() {
		t.Error("gate open again after the audit writes failed")
	}
}
