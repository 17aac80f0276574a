package spool_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgeprivacy/edge/internal/spool"
)

func quiet() spool.Option { return spool.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))) }

func rec(i int) []byte { return []byte(fmt.Sprintf("record-%04d", i)) }

func mustOpen(t *testing.T, dir string, max int64, opts ...spool.Option) *spool.Spool {
	t.Helper()
	s, err := spool.Open(dir, max, append([]spool.Option{quiet()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drain pops every record and returns them in order.
func drain(t *testing.T, s *spool.Spool) []string {
	t.Helper()
	var got []string
	for i := 0; i < 100000; i++ {
		b, ok, err := s.Peek()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return got
		}
		got = append(got, string(b))
		if err := s.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("drain did not end")
	return nil
}

func want(from, to int) []string {
	var w []string
	for i := from; i < to; i++ {
		w = append(w, string(rec(i)))
	}
	return w
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOrder(t *testing.T) {
	for _, segSize := range []int64{0, 64} { // default, and a roll every few records
		t.Run(fmt.Sprintf("segment=%d", segSize), func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, 1<<20, spool.WithSegmentSize(segSize))
			for i := 0; i < 50; i++ {
				if err := s.Append(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != 50 {
				t.Fatalf("Len %d, want 50", s.Len())
			}
			// Peek twice without Ack returns the same head.
			a, _, _ := s.Peek()
			b, _, _ := s.Peek()
			if !bytes.Equal(a, b) || string(a) != string(rec(0)) {
				t.Fatalf("peek %q %q", a, b)
			}
			if got := drain(t, s); !equal(got, want(0, 50)) {
				t.Fatalf("order: %v", got)
			}
			if s.Len() != 0 || s.Bytes() != 0 {
				t.Fatalf("after drain Len %d Bytes %d", s.Len(), s.Bytes())
			}
			if err := s.Ack(); !errors.Is(err, spool.ErrEmpty) {
				t.Fatalf("Ack on empty: %v", err)
			}
			if segSize > 0 {
				if n := len(segments(t, dir)); n != 1 {
					t.Fatalf("%d segment files left after drain, want 1", n)
				}
			}
		})
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestRestartPersistence(t *testing.T) {
	tests := []struct {
		name    string
		segSize int64
		acked   int
	}{
		{"none acked", 0, 0},
		{"some acked", 0, 7},
		{"some acked across segments", 64, 13},
		{"all acked", 64, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, 1<<20, quiet(), spool.WithSegmentSize(tc.segSize))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				if err := s.Append(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < tc.acked; i++ {
				if _, _, err := s.Peek(); err != nil {
					t.Fatal(err)
				}
				if err := s.Ack(); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s2 := mustOpen(t, dir, 1<<20, spool.WithSegmentSize(tc.segSize))
			if s2.Len() != 20-tc.acked {
				t.Fatalf("Len after reopen %d, want %d", s2.Len(), 20-tc.acked)
			}
			// New records go after the old ones.
			if err := s2.Append(rec(20)); err != nil {
				t.Fatal(err)
			}
			if got := drain(t, s2); !equal(got, want(tc.acked, 21)) {
				t.Fatalf("after reopen: %v", got)
			}
		})
	}
}

func TestFull(t *testing.T) {
	dir := t.TempDir()
	const max = 100
	s := mustOpen(t, dir, max)
	// Each record is 8 header + 11 data = 19 bytes: 5 fit in 100.
	for i := 0; i < 5; i++ {
		if err := s.Append(rec(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := s.Append(rec(5)); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("append beyond max: %v, want ErrFull", err)
	}
	if err := s.Append(make([]byte, max)); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("oversized record: %v, want ErrFull", err)
	}
	// Acknowledging makes room again; nothing was lost or reordered.
	if _, _, err := s.Peek(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(rec(5)); err != nil {
		t.Fatalf("append after ack: %v", err)
	}
	if got := drain(t, s); !equal(got, want(1, 6)) {
		t.Fatalf("got %v", got)
	}
}

func TestCorruptTail(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		intact int // records of the four written that survive
	}{
		{"truncated data", func(t *testing.T, path string) { truncateBy(t, path, 3) }, 3},
		{"truncated header", func(t *testing.T, path string) { truncateBy(t, path, 19-4) }, 3},
		{"garbage appended", func(t *testing.T, path string) {
			appendBytes(t, path, []byte{0, 0, 0, 4, 1, 2, 3, 4, 'x', 'y', 'z', 'w'})
		}, 4},
		{"huge length", func(t *testing.T, path string) {
			appendBytes(t, path, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
		}, 4},
		{"flipped byte", func(t *testing.T, path string) { flipLast(t, path) }, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, 1<<20, quiet())
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 4; i++ {
				if err := s.Append(rec(i)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			segs := segments(t, dir)
			if len(segs) != 1 {
				t.Fatalf("segments %v", segs)
			}
			tc.damage(t, segs[0])

			var logs bytes.Buffer
			s2, err := spool.Open(dir, 1<<20, spool.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatalf("open after damage must not fail: %v", err)
			}
			defer s2.Close()
			if !strings.Contains(logs.String(), "torn record") {
				t.Fatalf("damage not logged: %q", logs.String())
			}
			// The spool keeps working after the damaged tail is cut.
			if err := s2.Append(rec(9)); err != nil {
				t.Fatal(err)
			}
			w := append(want(0, tc.intact), string(rec(9)))
			if got := drain(t, s2); !equal(got, w) {
				t.Fatalf("got %v want %v", got, w)
			}
		})
	}
}

func truncateBy(t *testing.T, path string, n int64) {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-n); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipLast(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptHeadFile(t *testing.T) {
	dir := t.TempDir()
	s, err := spool.Open(dir, 1<<20, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := s.Append(rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Ack(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "head"), []byte("nonsense"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := mustOpen(t, dir, 1<<20)
	// At least once: an unreadable position re-delivers from the oldest record.
	if got := drain(t, s2); !equal(got, want(0, 3)) {
		t.Fatalf("got %v", got)
	}
}

func TestConcurrentAppendAndRead(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 1<<20, spool.WithSegmentSize(256))
	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			if err := s.Append(rec(i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var got []string
	for tries := 0; len(got) < n && tries < 10_000_000; tries++ {
		b, ok, err := s.Peek()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		got = append(got, string(b))
		if err := s.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if !equal(got, want(0, n)) {
		t.Fatalf("got %d records, out of order or missing", len(got))
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		max  int64
	}{
		{"max too small", func(t *testing.T) string { return t.TempDir() }, 4},
		{"dir is a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := spool.Open(tc.dir(t), tc.max, quiet()); err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}
