package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// Export file names inside the output folder, besides internal/manifest's
// MANIFEST and MANIFEST.minisig, which seal both.
const (
	ExportRecords = "records.jsonl"
	ExportInfo    = "export.json"
)

// Exported describes an export (ExportInfo). The folder is sealed like a
// verify report (internal/manifest): `edge report check DIR` checks every
// file against the device key's signature, and `edge audit verify DIR`
// checks the excerpt's chain.
type Exported struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	ExportedAt time.Time `json:"exported_at"`
	Records    int       `json:"records"`
	FirstSeq   uint64    `json:"first_seq,omitempty"`
	LastSeq    uint64    `json:"last_seq,omitempty"`
	// FirstPrev is the hash the first exported record chains to.
	FirstPrev string `json:"first_prev,omitempty"`
	// SHA256 is the hash of ExportRecords.
	SHA256 string `json:"sha256"`
	// Source is the whole chain's verification when exported; its Head is
	// also named in the MANIFEST as the "audit-head" input.
	Source Summary `json:"source"`
	// Key is the fingerprint of the key that sealed the folder.
	Key string `json:"key"`
}

// Export verifies the chain in paths, then writes the records with from <=
// ts <= to to out/records.jsonl, byte for byte (so the excerpt verifies on
// its own), and out/export.json, and seals the folder with key
// (internal/manifest). A broken chain is not exported; out must be new or
// empty, since the seal signs whatever the folder holds.
func Export(paths []string, from, to time.Time, out string, key *devicekey.Key) (Exported, error) {
	if err := emptyFolder(out); err != nil {
		return Exported{}, err
	}
	sum, err := Verify(paths, nil)
	if err != nil {
		return Exported{}, err
	}
	m := Exported{From: from.UTC(), To: to.UTC(), ExportedAt: time.Now().UTC(), Source: sum, Key: key.Fingerprint()}
	var buf bytes.Buffer
	for _, p := range paths {
		err := readLines(p, func(line []byte, _ int) error {
			r, err := decode(line)
			if err != nil {
				return err // Verify passed: cannot happen unless the file changed meanwhile
			}
			if r.TS.Before(from) || r.TS.After(to) {
				return nil
			}
			if m.Records == 0 {
				m.FirstSeq, m.FirstPrev = r.Seq, r.Prev
			}
			m.Records++
			m.LastSeq = r.Seq
			buf.Write(line)
			buf.WriteByte('\n')
			return nil
		})
		if err != nil {
			return Exported{}, fmt.Errorf("audit file %s: %w", p, err)
		}
	}
	h := sha256.Sum256(buf.Bytes())
	m.SHA256 = hex.EncodeToString(h[:])
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Exported{}, err
	}
	mb = append(mb, '\n')
	if err := privfile.MkdirAll(out); err != nil {
		return Exported{}, fmt.Errorf("export folder %s: %w", out, err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{ExportRecords, buf.Bytes()}, {ExportInfo, mb}} {
		if err := privfile.WriteFile(filepath.Join(out, f.name), f.data); err != nil {
			return Exported{}, fmt.Errorf("export %s: %w", f.name, err)
		}
	}
	src := filepath.Dir(paths[len(paths)-1])
	if err := manifest.Seal(out, []manifest.Input{{Role: "audit-head", Path: src, SHA256: sum.Head}}, key); err != nil {
		return Exported{}, fmt.Errorf("export %s: %w", out, err)
	}
	return m, nil
}

// emptyFolder refuses an export folder that holds anything.
func emptyFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("export folder %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("export folder %s is not empty: the seal would sign what is there; give a new folder", dir)
	}
	return nil
}

// isExport reports whether dir is an export folder (its records beside a
// MANIFEST).
func isExport(dir string) bool {
	for _, n := range []string{ExportRecords, manifest.Name} {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}
