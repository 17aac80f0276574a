package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// Defaults of Config.
const (
	DefaultMaxBytes        = 16 << 20
	DefaultCheckpointEvery = 10 * time.Minute
	// DefaultLockWait bounds the wait for another writer's audit.lock: a
	// stopped `edge verify` must not stall the live log for ever.
	DefaultLockWait = 5 * time.Second
)

// Checkpoint reasons.
const (
	ReasonStart    = "start"
	ReasonStop     = "stop"
	ReasonPeriodic = "periodic"
)

// KindCheckpoint is the kind of signed checkpoint records.
const KindCheckpoint = "checkpoint"

// Config configures a Log.
type Config struct {
	// Dir holds the audit files; created 0750, files 0640. Required.
	Dir string
	// MaxBytes is the size at which a file is closed and the next begun.
	// It defaults to 16 MiB.
	MaxBytes int64
	// Key signs checkpoints. Required.
	Key *devicekey.Key
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// LockWait is how long an append waits for another process holding
	// audit.lock before it fails. It defaults to DefaultLockWait.
	LockWait time.Duration
}

// Log appends chained records to the files in Config.Dir. It is safe for
// concurrent use.
type Log struct {
	cfg Config
	// lock is flocked around every append, so that another process
	// (`edge verify` recording a report) may append to the same chain.
	lock *os.File

	mu    sync.Mutex
	f     *os.File
	index int   // number in the current file's name
	size  int64 // bytes in the current file
	seq   uint64
	prev  string
	since int // records since the last checkpoint
}

// fileName is the name of the n-th audit file.
func fileName(n int) string { return fmt.Sprintf("audit-%06d.jsonl", n) }

// Files returns the audit files in dir in chain order.
func Files(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "audit-[0-9][0-9][0-9][0-9][0-9][0-9].jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

// Open opens the log in cfg.Dir, continuing the chain of the files already
// there. A torn last line (a crash mid-write) is left for Verify to report;
// the chain continues from the last sound record.
func Open(cfg Config) (*Log, error) {
	if cfg.Dir == "" || cfg.Key == nil {
		return nil, errors.New("audit: a folder and a device key are required")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LockWait <= 0 {
		cfg.LockWait = DefaultLockWait
	}
	if err := privfile.MkdirAll(cfg.Dir); err != nil {
		return nil, fmt.Errorf("audit folder %s: %w", cfg.Dir, err)
	}
	lock, err := openLock(cfg.Dir)
	if err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, lock: lock, index: 1, prev: Genesis}
	if err := l.locked(func() error { return nil }); err != nil {
		lock.Close()
		return nil, err
	}
	return l, nil
}

// recover finds the newest sound record, newest file first.
func (l *Log) recover(files []string) error {
	for i := len(files) - 1; i >= 0; i-- {
		b, err := os.ReadFile(files[i])
		if err != nil {
			return fmt.Errorf("audit file %s: %w (edge needs to read it to continue the chain)", files[i], err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' && i == len(files)-1 {
			// Terminate the torn line so the next record starts on its own.
			f, err := privfile.OpenFile(files[i], os.O_WRONLY|os.O_APPEND|os.O_CREATE)
			if err != nil {
				return fmt.Errorf("audit file %s: %w", files[i], err)
			}
			_, err = f.Write([]byte{'\n'})
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("audit file %s: %w", files[i], err)
			}
		}
		lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte{'\n'})
		for j := len(lines) - 1; j >= 0; j-- {
			if r, err := decode(lines[j]); err == nil {
				l.seq, l.prev = r.Seq, r.Hash
				return nil
			}
		}
	}
	return nil
}

func (l *Log) openFile() error {
	p := filepath.Join(l.cfg.Dir, fileName(l.index))
	f, err := privfile.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return fmt.Errorf("audit file %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit file %s: %w", p, err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends a record of kind with data (marshalled to JSON).
func (l *Log) Write(kind string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit %s record: %w", kind, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked(func() error {
		return l.append(kind, l.cfg.Now(), func(uint64, time.Time, string) json.RawMessage { return raw })
	})
}

// Checkpoint appends a checkpoint signed with the device key.
func (l *Log) Checkpoint(reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.locked(func() error { return l.checkpoint(reason) })
}

func (l *Log) checkpoint(reason string) error {
	k := l.cfg.Key
	err := l.append(KindCheckpoint, l.cfg.Now(), func(seq uint64, ts time.Time, prev string) json.RawMessage {
		sig := k.Sign(CheckpointMessage(seq, ts, prev, reason))
		raw, _ := json.Marshal(Checkpoint{ // strings only: cannot fail
			Reason: reason, Key: k.Fingerprint(), PublicKey: k.PublicKey().String(),
			Sig: base64.StdEncoding.EncodeToString(sig),
		})
		return raw
	})
	if err == nil {
		l.since = 0
		err = l.f.Sync()
	}
	return err
}

// append writes one record; data builds the payload from the record's place
// in the chain (checkpoints sign it). Call with mu held.
func (l *Log) append(kind string, ts time.Time, data func(seq uint64, ts time.Time, prev string) json.RawMessage) error {
	if l.f == nil {
		return errors.New("audit: log is closed")
	}
	ts = ts.UTC()
	r := Record{Seq: l.seq + 1, TS: ts, Kind: kind, Prev: l.prev}
	r.Data = data(r.Seq, ts, r.Prev)
	line, h, err := encode(r)
	if err != nil {
		return fmt.Errorf("audit %s record: %w", kind, err)
	}
	line = append(line, '\n')
	if l.size > 0 && l.size+int64(len(line)) > l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("audit file %s: %w", l.f.Name(), err)
	}
	l.seq, l.prev = r.Seq, h
	l.since++
	return nil
}

func (l *Log) rotate() error {
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("audit file %s: %w", l.f.Name(), err)
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("audit file %s: %w", l.f.Name(), err)
	}
	l.index++
	return l.openFile()
}

// CheckpointEvery writes a periodic checkpoint every d (when records were
// written since the last one) until ctx is done.
func (l *Log) CheckpointEvery(ctx context.Context, d time.Duration, onErr func(error)) {
	if d <= 0 {
		d = DefaultCheckpointEvery
	}
	flow.Every(ctx, d, func() {
		l.mu.Lock()
		var err error
		if l.since > 0 && l.f != nil {
			err = l.locked(func() error { return l.checkpoint(ReasonPeriodic) })
		}
		l.mu.Unlock()
		if err != nil && onErr != nil {
			onErr(err)
		}
	})
}

// Close closes the current file. Write the stop record and checkpoint first.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	l.lock = nil
	return err
}

// readLines calls fn for each line of path (without the newline).
func readLines(path string, fn func(line []byte, n int) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if ferr := fn(bytes.TrimSuffix(line, []byte{'\n'}), n); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
