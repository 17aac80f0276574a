package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/internal/privfile"
)

// LockName is the file in the audit folder that every writer holds an
// exclusive flock on while it appends: `edge run` and `edge verify` (which
// records the reports it produces) may write the same chain at once.
const LockName = "audit.lock"

func openLock(dir string) (*os.File, error) {
	p := filepath.Join(dir, LockName)
	f, err := privfile.OpenFile(p, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("audit lock %s: %w", p, err)
	}
	return f, nil
}

// locked runs fn holding the folder's flock, after catching up with what
// other processes appended. Call with mu held.
func (l *Log) locked(fn func() error) error {
	if l.lock == nil {
		return errors.New("audit: log is closed")
	}
	fd := int(l.lock.Fd())
	if err := flock(fd, l.cfg.LockWait); err != nil {
		return fmt.Errorf("audit lock %s: %w", l.lock.Name(), err)
	}
	defer syscall.Flock(fd, syscall.LOCK_UN) //nolint:errcheck // closing the file would release it too
	if err := l.catchUp(); err != nil {
		return err
	}
	return fn()
}

// lockRetry is the pause between tries for a busy audit.lock.
const lockRetry = 20 * time.Millisecond

// flock takes the exclusive lock without blocking, trying again until wait
// has passed: a writer stopped while it holds the lock (a suspended `edge
// verify`) would otherwise block every append, and with it whatever waits
// on the append, for ever.
func flock(fd int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return err
		case !time.Now().Before(deadline):
			return fmt.Errorf("held by another writer for over %s (stop the other `edge verify` or `edge run` on this folder): %w", wait, err)
		}
		time.Sleep(lockRetry)
	}
}

// catchUp continues the chain from the newest record on disk when another
// process wrote since this one last did (the current file grew, or a newer
// file began). Without it the next record would name a stale prev and
// break the chain. Call with the flock held.
func (l *Log) catchUp() error {
	if l.f != nil {
		fi, err := os.Stat(filepath.Join(l.cfg.Dir, fileName(l.index)))
		_, nerr := os.Stat(filepath.Join(l.cfg.Dir, fileName(l.index+1)))
		if err == nil && fi.Size() == l.size && errors.Is(nerr, fs.ErrNotExist) {
			return nil
		}
		l.f.Close()
		l.f = nil
	}
	files, err := Files(l.cfg.Dir)
	if err != nil {
		return fmt.Errorf("audit folder %s: %w", l.cfg.Dir, err)
	}
	l.seq, l.prev = 0, Genesis
	if n := len(files); n > 0 {
		if _, err := fmt.Sscanf(filepath.Base(files[n-1]), "audit-%06d.jsonl", &l.index); err != nil {
			return fmt.Errorf("audit file %s: %w", files[n-1], err)
		}
		if err := l.recover(files); err != nil {
			return err
		}
	}
	return l.openFile()
}
