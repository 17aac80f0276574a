package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
)

func newKey(t *testing.T) *devicekey.Key {
	t.Helper()
	k, _, err := devicekey.LoadOrCreate(filepath.Join(t.TempDir(), "key", "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// clock is a fake clock that advances a second per reading.
func clock() func() time.Time {
	t := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// writeLog writes start, n records and stop, in files of at most 2 KiB.
func writeLog(t *testing.T, dir string, key *devicekey.Key, n int) { writeLogMax(t, dir, key, n, 2048) }

func writeLogMax(t *testing.T, dir string, key *devicekey.Key, n int, maxBytes int64) {
	t.Helper()
	l, err := audit.Open(audit.Config{Dir: dir, Key: key, MaxBytes: maxBytes, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(l.Write("start", map[string]string{"version": "test"}))
	must(l.Checkpoint(audit.ReasonStart))
	for i := range n {
		must(l.Write("event", map[string]any{"i": i, "zone": "walkway"}))
		if i == n/2 {
			must(l.Checkpoint(audit.ReasonPeriodic))
		}
	}
	must(l.Write("stop", nil))
	must(l.Checkpoint(audit.ReasonStop))
	must(l.Close())
}

func verifyDir(t *testing.T, dir string) (audit.Summary, error) {
	t.Helper()
	paths, err := audit.Paths(dir)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Verify(paths, nil)
}

func TestChainAcrossFilesAndRestarts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	key := newKey(t)
	writeLog(t, dir, key, 30)
	writeLog(t, dir, key, 30) // a restart continues the chain
	files, _ := audit.Files(dir)
	if len(files) < 3 {
		t.Fatalf("%d files: rotation at 2 KiB did not happen", len(files))
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 2048 {
			t.Errorf("%s is %d bytes, over MaxBytes", f, fi.Size())
		}
		if fi.Mode().Perm()&^0o640 != 0 {
			t.Errorf("%s mode %v, want at most 0640", f, fi.Mode().Perm())
		}
	}
	s, err := verifyDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := 2 * (30 + 5)
	if s.Records != want || s.FirstSeq != 1 || s.LastSeq != uint64(want) || s.Checkpoints != 6 || s.Uncovered != 0 || s.Key != key.Fingerprint() {
		t.Fatalf("summary %+v, want %d records, 6 checkpoints, key %s", s, want, key.Fingerprint())
	}
}

// lines returns every line of the chain with the file it is in.
type loc struct {
	file string
	idx  int
}

func allLines(t *testing.T, dir string) ([]loc, map[string][][]byte) {
	files, _ := audit.Files(dir)
	var locs []loc
	content := map[string][][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ls := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		content[f] = ls
		for i := range ls {
			locs = append(locs, loc{f, i})
		}
	}
	return locs, content
}

func save(t *testing.T, content map[string][][]byte) {
	for f, ls := range content {
		if err := os.WriteFile(f, append(bytes.Join(ls, []byte("\n")), '\n'), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOneByteChangedIsNamed changes one byte at a time, in every part of a
// record, and wants verify to name exactly that record.
func TestOneByteChangedIsNamed(t *testing.T) {
	key := newKey(t)
	base := filepath.Join(t.TempDir(), "audit")
	writeLog(t, base, key, 20)
	locs, _ := allLines(t, base)
	for _, target := range []int{0, 1, 7, 12, len(locs) - 2, len(locs) - 1} {
		for _, where := range []string{`"seq":`, `"ts":"`, `"kind":"`, `"prev":"`, `"data":`, `"hash":"`} {
			t.Run(where+"@"+string(rune('0'+target%10)), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "audit")
				copyDir(t, base, dir)
				locs, content := allLines(t, dir)
				l := locs[target]
				line := content[l.file][l.idx]
				i := bytes.Index(line, []byte(where))
				if i < 0 {
					t.Skipf("no %s in this record", where)
				}
				pos := i + len(where) + 1
				line[pos] ^= 0x01
				save(t, content)
				var seq uint64
				var r struct{ Seq uint64 }
				orig, _ := os.ReadFile(filepath.Join(base, filepath.Base(l.file)))
				_ = json.Unmarshal(bytes.Split(orig, []byte("\n"))[l.idx], &r)
				seq = r.Seq
				_, err := verifyDir(t, dir)
				var be *audit.BrokenError
				if !errors.As(err, &be) {
					t.Fatalf("changed byte %d of record %d: verify said %v", pos, seq, err)
				}
				if be.Line != l.idx+1 || be.File != filepath.Base(l.file) {
					t.Fatalf("changed record %d (%s line %d), verify named %s line %d: %v", seq, filepath.Base(l.file), l.idx+1, be.File, be.Line, be)
				}
			})
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	files, _ := audit.Files(from)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, filepath.Base(f)), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTampering: removed, reordered and rewritten records are caught.
func TestTampering(t *testing.T) {
	key := newKey(t)
	base := filepath.Join(t.TempDir(), "audit")
	writeLogMax(t, base, key, 20, 1<<20) // one file: the forger rewrites it whole
	cases := []struct {
		name string
		edit func(ls [][]byte) [][]byte
		want string
	}{
		{"record removed", func(ls [][]byte) [][]byte { return append(ls[:3:3], ls[4:]...) }, "removed or reordered"},
		{"records swapped", func(ls [][]byte) [][]byte { ls[3], ls[4] = ls[4], ls[3]; return ls }, "removed or reordered"},
		{"torn last line", func(ls [][]byte) [][]byte { ls[len(ls)-1] = ls[len(ls)-1][:40]; return ls }, "not a JSON record"},
		{"record rewritten with fresh hashes", func(ls [][]byte) [][]byte {
			return rehash(t, ls, 2, func(s string) string { return strings.Replace(s, `"i":0`, `"i":9`, 1) })
		}, "checkpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			copyDir(t, base, dir)
			_, content := allLines(t, dir)
			first, _ := audit.Files(dir)
			content[first[0]] = tc.edit(content[first[0]])
			save(t, content)
			_, err := verifyDir(t, dir)
			if !audit.IsBroken(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify said %v, want a broken record (%s)", err, tc.want)
			}
		})
	}
	t.Run("whole chain re-signed by another key, pinned", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "audit")
		writeLog(t, dir, newKey(t), 5)
		paths, _ := audit.Paths(dir)
		pin := key.PublicKey()
		if _, err := audit.Verify(paths, &pin); !audit.IsBroken(err) || !strings.Contains(err.Error(), "signed by") {
			t.Fatalf("verify with the device key pinned said %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if _, err := audit.Verify([]string{filepath.Join(t.TempDir(), "nope.jsonl")}, nil); err == nil || audit.IsBroken(err) {
			t.Fatalf("got %v, want a read error", err)
		}
	})
}

// rehash edits record i and recomputes every hash after it, as a forger
// without the key would: only the checkpoints' signatures can tell.
func rehash(t *testing.T, ls [][]byte, i int, edit func(string) string) [][]byte {
	t.Helper()
	ls[i] = []byte(edit(string(ls[i])))
	prev := ""
	for j := i; j < len(ls); j++ {
		s := string(ls[j])
		if prev != "" {
			k := strings.Index(s, `"prev":"`) + len(`"prev":"`)
			s = s[:k] + prev + s[k+64:]
		}
		k := strings.LastIndex(s, `,"hash":"`)
		sum := sha256.Sum256([]byte(s[:k]))
		prev = hex.EncodeToString(sum[:])
		ls[j] = []byte(s[:k] + `,"hash":"` + prev + `"}`)
	}
	return ls
}

func TestExport(t *testing.T) {
	key := newKey(t)
	dir := filepath.Join(t.TempDir(), "audit")
	writeLog(t, dir, key, 40)
	paths, _ := audit.Paths(dir)
	from := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC)
	to := time.Date(2026, 3, 1, 10, 0, 20, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "export")
	m, err := audit.Export(paths, from, to, out, key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Records != 11 || m.FirstSeq != 10 || m.LastSeq != 20 {
		t.Fatalf("manifest %+v, want records 10..20", m)
	}
	res, err := manifest.Check(out, key.PublicKey())
	if err != nil || !res.OK() {
		t.Fatalf("export seal: %+v %v", res, err)
	}
	if len(res.Inputs) != 1 || res.Inputs[0].Role != "audit-head" || res.Inputs[0].SHA256 != m.Source.Head || m.Source.Head == "" {
		t.Fatalf("manifest inputs %+v: want the source chain's head %s", res.Inputs, m.Source.Head)
	}
	rec, _ := os.ReadFile(filepath.Join(out, audit.ExportRecords))
	if h := sha256.Sum256(rec); hex.EncodeToString(h[:]) != m.SHA256 {
		t.Fatal("records do not match the manifest's hash")
	}
	s, err := audit.Verify([]string{filepath.Join(out, audit.ExportRecords)}, nil)
	if err != nil || s.Records != 11 {
		t.Fatalf("the excerpt does not verify on its own: %+v %v", s, err)
	}
	if p, err := audit.Paths(out); err != nil || len(p) != 1 || filepath.Base(p[0]) != audit.ExportRecords {
		t.Fatalf("Paths of the export folder = %v, %v; want its records", p, err)
	}
	// The seal signs whatever the folder holds: a used folder is refused.
	if _, err := audit.Export(paths, from, to, out, key); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("export into a used folder: %v", err)
	}
	// A changed exported record breaks the seal and the excerpt's chain.
	rec[len(rec)/2] ^= 1
	if err := os.WriteFile(filepath.Join(out, audit.ExportRecords), rec, 0o640); err != nil {
		t.Fatal(err)
	}
	if res, err := manifest.Check(out, key.PublicKey()); err != nil || res.OK() || len(res.Changed) != 1 {
		t.Fatalf("changed records: %+v %v", res, err)
	}
}
