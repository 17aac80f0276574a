package audit

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/internal/devicekey"
)

// BrokenError names the first record at which the chain does not hold.
type BrokenError struct {
	File string
	Line int
	// Seq is the record's number as written (0 when it cannot be read).
	Seq    uint64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("record %d (%s line %d) is broken: %s", e.Seq, e.File, e.Line, e.Reason)
}

// Summary is what Verify found in a whole chain.
type Summary struct {
	Files       int    `json:"files"`
	Records     int    `json:"records"`
	FirstSeq    uint64 `json:"first_seq"`
	LastSeq     uint64 `json:"last_seq"`
	Checkpoints int    `json:"checkpoints"`
	// Key is the fingerprint of the key that signed the checkpoints.
	Key string `json:"key,omitempty"`
	// Uncovered counts the records after the last checkpoint: they could be
	// cut off without trace.
	Uncovered int `json:"uncovered"`
	// LastCheckpoint is the reason of the last checkpoint ("start", "stop",
	// "periodic") and LastCheckpointAt its time: a whole log of a stopped
	// edge ends with "stop"; anything else means edge is still running,
	// stopped uncleanly, or its tail was cut off.
	LastCheckpoint   string    `json:"last_checkpoint,omitempty"`
	LastCheckpointAt time.Time `json:"last_checkpoint_at,omitzero"`
	// Head is the hash of the last record.
	Head string `json:"head,omitempty"`
}

// Paths expands a verify argument: a folder means its audit files in
// order, or an export folder's records; a file is itself.
func Paths(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	if isExport(path) {
		return []string{filepath.Join(path, ExportRecords)}, nil
	}
	files, err := Files(path)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no audit-NNNNNN.jsonl files in %s", path)
	}
	return files, err
}

// Verify checks the chain across files, in order: every line a record whose
// content matches its own hash, numbered without gaps, each naming the hash
// of the one before, and every checkpoint signed by one key (pin, when not
// nil). A chain that starts at record 1 must start from Genesis; an excerpt
// (an export) may start anywhere. It returns a *BrokenError for the first
// broken record, or another error when a file cannot be read.
func Verify(paths []string, pin *minisign.PublicKey) (Summary, error) {
	var s Summary
	var prev string
	key := pin
	for _, p := range paths {
		s.Files++
		name := filepath.Base(p)
		err := readLines(p, func(line []byte, n int) error {
			broken := func(seq uint64, format string, args ...any) error {
				return &BrokenError{File: name, Line: n, Seq: seq, Reason: fmt.Sprintf(format, args...)}
			}
			r, err := decode(line)
			if err != nil {
				return broken(r.Seq, "%v", err)
			}
			switch {
			case s.Records == 0 && r.Seq == 1 && r.Prev != Genesis:
				return broken(r.Seq, "the first record does not start the chain")
			case s.Records > 0 && r.Seq != s.LastSeq+1:
				return broken(r.Seq, "expected record %d next: records were removed or reordered", s.LastSeq+1)
			case s.Records > 0 && r.Prev != prev:
				return broken(r.Seq, "its prev does not match the hash of record %d", s.LastSeq)
			}
			if r.Kind == KindCheckpoint {
				k, reason, err := checkCheckpoint(r, key)
				if err != nil {
					return broken(r.Seq, "checkpoint: %v", err)
				}
				key, s.LastCheckpoint, s.LastCheckpointAt = k, reason, r.TS
				s.Checkpoints++
				s.Uncovered = -1
			}
			if s.Records == 0 {
				s.FirstSeq = r.Seq
			}
			s.Records++
			s.Uncovered++
			s.LastSeq, prev, s.Head = r.Seq, r.Hash, r.Hash
			return nil
		})
		if err != nil {
			return s, err
		}
	}
	if key != nil {
		s.Key = devicekey.Fingerprint(*key)
	}
	return s, nil
}

// checkCheckpoint checks r's signature (by key, when not nil) and returns
// its signer and reason.
func checkCheckpoint(r Record, key *minisign.PublicKey) (*minisign.PublicKey, string, error) {
	var c Checkpoint
	if err := json.Unmarshal(r.Data, &c); err != nil {
		return nil, "", err
	}
	var pub minisign.PublicKey
	if err := pub.UnmarshalText([]byte(c.PublicKey)); err != nil {
		return nil, "", fmt.Errorf("public key: %w", err)
	}
	if key != nil && !key.Equal(pub) {
		return nil, "", fmt.Errorf("signed by %s, not by %s", devicekey.Fingerprint(pub), devicekey.Fingerprint(*key))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil {
		return nil, "", fmt.Errorf("signature: %w", err)
	}
	if err := devicekey.Verify(pub, CheckpointMessage(r.Seq, r.TS, r.Prev, c.Reason), sig); err != nil {
		return nil, "", err
	}
	return &pub, c.Reason, nil
}

// IsBroken reports whether err is a *BrokenError.
func IsBroken(err error) bool {
	var b *BrokenError
	return errors.As(err, &b)
}
