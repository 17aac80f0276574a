package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// Export file names inside the output folder.
const (
	ExportRecords   = "records.jsonl"
	ExportManifest  = "manifest.json"
	ExportSignature = "manifest.json.minisig"
	ExportPublicKey = "device.pub"
)

// Manifest describes an export; its signature (ExportSignature) is made
// with the device key.
type Manifest struct {
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
	// Source is the whole chain's verification when exported.
	Source Summary `json:"source"`
	// Key is the fingerprint of the signing key; PublicKey the key.
	Key       string `json:"key"`
	PublicKey string `json:"public_key"`
}

// Export verifies the chain in paths, then writes the records with from <=
// ts <= to to out/records.jsonl, byte for byte (so the excerpt verifies on
// its own), with a manifest signed by key. A broken chain is not exported.
func Export(paths []string, from, to time.Time, out string, key *devicekey.Key) (Manifest, error) {
	sum, err := Verify(paths, nil)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{From: from.UTC(), To: to.UTC(), ExportedAt: time.Now().UTC(), Source: sum,
		Key: key.Fingerprint(), PublicKey: key.PublicKey().String()}
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
			return Manifest{}, fmt.Errorf("audit file %s: %w", p, err)
		}
	}
	h := sha256.Sum256(buf.Bytes())
	m.SHA256 = hex.EncodeToString(h[:])
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	mb = append(mb, '\n')
	if err := privfile.MkdirAll(out); err != nil {
		return Manifest{}, fmt.Errorf("export folder %s: %w", out, err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ExportRecords, buf.Bytes()}, {ExportManifest, mb}, {ExportSignature, key.Sign(mb)}, {ExportPublicKey, key.PublicKeyFile()},
	} {
		if err := privfile.WriteFile(filepath.Join(out, f.name), f.data); err != nil {
			return Manifest{}, fmt.Errorf("export %s: %w", f.name, err)
		}
	}
	return m, nil
}
