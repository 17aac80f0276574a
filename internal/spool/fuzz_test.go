package spool_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeprivacy/edge/internal/spool"
)

// FuzzOpenDamaged feeds arbitrary segment and head files to Open: it must not
// panic, must either fail cleanly or yield a spool that drains and keeps
// working.
func FuzzOpenDamaged(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0xa0, 0x1d, 0x5a, 0x1c, 'x'}, []byte("1 0\n"))
	f.Add([]byte{0, 0, 0, 5, 1, 2, 3, 4, 'a'}, []byte("1 9\n"))
	f.Add([]byte{}, []byte("7 3\n"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, []byte("garbage"))
	f.Fuzz(func(t *testing.T, seg, head []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.seg"), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "head"), head, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := spool.Open(dir, 1<<20, quiet())
		if err != nil {
			return
		}
		defer s.Close()
		n := s.Len()
		got := drain(t, s)
		if len(got) != n {
			t.Fatalf("Len %d but drained %d", n, len(got))
		}
		if err := s.Append([]byte("after")); err != nil {
			t.Fatal(err)
		}
		if got := drain(t, s); len(got) != 1 || got[0] != "after" {
			t.Fatalf("after damage: %q", got)
		}
	})
}
