// Package privfile creates the files edge keeps on disk that hold what
// people did in front of a camera (recordings, snapshots, audit log,
// verification reports) so that only edge's own user and group can read
// them: files 0640, folders 0750, whatever the process umask is.
//
// A umask can only take permissions away, never add them, so the modes
// here are upper bounds. A folder that already exists with wider
// permissions is tightened; one edge does not own (so cannot tighten) is
// refused with the command that fixes it.
package privfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The widest permissions edge gives what it writes.
const (
	FileMode fs.FileMode = 0o640
	DirMode  fs.FileMode = 0o750
)

// MkdirAll creates dir and its missing parents with DirMode and makes sure
// dir itself is no wider than DirMode, tightening it when it already
// exists. Parents that existed before are left alone: they may be shared
// folders such as /var/lib.
func MkdirAll(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create folder %s: %w (check the path and its parent's permissions)", dir, err)
	}
	return tighten(dir, DirMode, true)
}

// Create creates (or truncates) path with FileMode, tightening an existing
// file that was wider, and returns it open for writing.
func Create(path string) (*os.File, error) {
	return OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY)
}

// OpenFile opens path with flag (which should include os.O_CREATE),
// creating it with FileMode and tightening an existing file that was
// wider. Use it for append-only logs (os.O_APPEND).
func OpenFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag, FileMode)
	if err != nil {
		return nil, err
	}
	if err := tightenFile(f, FileMode); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WriteFile writes data to path with FileMode, like os.WriteFile.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Check reports whether path (file or folder) is no wider than the mode
// edge would give it.
func Check(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	limit := FileMode
	if info.IsDir() {
		limit = DirMode
	}
	if extra := info.Mode().Perm() &^ limit; extra != 0 {
		return fmt.Errorf("%s is %v, wider than %v", path, info.Mode().Perm(), limit)
	}
	return nil
}

func tighten(path string, limit fs.FileMode, dir bool) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if dir && !info.IsDir() {
		return fmt.Errorf("%s is not a folder; move it away or choose another path", path)
	}
	perm := info.Mode().Perm()
	if perm&^limit == 0 {
		return nil
	}
	if err := os.Chmod(path, perm&limit); err != nil {
		return refuse(path, perm, limit, err)
	}
	return nil
}

func tightenFile(f *os.File, limit fs.FileMode) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	perm := info.Mode().Perm()
	if perm&^limit == 0 {
		return nil
	}
	if err := f.Chmod(perm & limit); err != nil {
		return refuse(f.Name(), perm, limit, err)
	}
	return nil
}

func refuse(path string, perm, limit fs.FileMode, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		err = fs.ErrPermission
	}
	abs, aerr := filepath.Abs(path)
	if aerr != nil {
		abs = path
	}
	return fmt.Errorf("%s is %v, wider than %v, and cannot be tightened (%w); run `chmod %o %s` as its owner",
		path, perm, limit, err, perm&limit, abs)
}

// WriteTemp writes data to a new temporary file beside path with the
// permission bits mode, synced to disk, and returns its name. The caller
// puts it in place, so that readers never see half a file (os.Rename
// replaces path, os.Link creates it only where there is none), and removes
// the name afterwards.
func WriteTemp(path string, data []byte, mode fs.FileMode) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", err
	}
	// Chmod before Write: what is written is never readable wider than mode.
	err = tmp.Chmod(mode)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}
