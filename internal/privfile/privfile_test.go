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

// TestWriteTemp: the temporary file lies beside path with the bits asked
// for (whatever the umask allows) and the data, and path is untouched.
func TestWriteTemp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.key")
	tmp, err := privfile.WriteTemp(path, []byte("secret"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(tmp) != filepath.Dir(path) || tmp == path {
		t.Fatalf("temporary file %s is not beside %s", tmp, path)
	}
	st, err := os.Stat(tmp)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("temporary file: %v, mode %v", err, st.Mode())
	}
	if b, _ := os.ReadFile(tmp); string(b) != "secret" {
		t.Fatalf("temporary file holds %q", b)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("path was created: %v", err)
	}
	if _, err := privfile.WriteTemp(filepath.Join(t.TempDir(), "missing", "x"), nil, 0o600); err == nil {
		t.Fatal("a temporary file in a missing folder was reported written")
	}
}
