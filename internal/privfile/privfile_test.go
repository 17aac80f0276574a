package privfile_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/edgeprivacy/edge/internal/privfile"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

// withUmask runs f under umask m; the umask is process-wide, so these tests
// are not parallel.
func withUmask(m int, f func()) {
	old := syscall.Umask(m)
	defer syscall.Umask(old)
	f()
}

func TestModesUnderAnyUmask(t *testing.T) {
	for _, um := range []int{0, 0o022, 0o027, 0o077} {
		dir := filepath.Join(t.TempDir(), "a", "b")
		withUmask(um, func() {
			if err := privfile.MkdirAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := privfile.WriteFile(filepath.Join(dir, "f"), []byte("x")); err != nil {
				t.Fatal(err)
			}
			f, err := privfile.OpenFile(filepath.Join(dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		})
		for _, p := range []string{dir, filepath.Dir(dir)} {
			if m := mode(t, p); m&^privfile.DirMode != 0 {
				t.Errorf("umask %o: folder %s is %v", um, p, m)
			}
		}
		for _, p := range []string{"f", "log"} {
			if m := mode(t, filepath.Join(dir, p)); m&^privfile.FileMode != 0 {
				t.Errorf("umask %o: file %s is %v", um, p, m)
			}
			if err := privfile.Check(filepath.Join(dir, p)); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestExistingWideOnesAreTightened(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "old.mp4")
	if err := os.WriteFile(file, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := privfile.Check(dir); err == nil {
		t.Fatal("Check passed a 0777 folder")
	}
	if err := privfile.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o750 {
		t.Errorf("folder tightened to %v, want 0750", m)
	}
	f, err := privfile.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if m := mode(t, file); m != 0o640 {
		t.Errorf("file tightened to %v, want 0640", m)
	}
	// Narrower than the limit stays as it is.
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := privfile.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("0700 folder changed to %v", m)
	}
}

func TestFileWhereFolderExpected(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := privfile.MkdirAll(p); err == nil {
		t.Fatal("MkdirAll accepted a file")
	}
}
