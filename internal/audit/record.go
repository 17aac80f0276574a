package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Genesis is the prev of the first record of a chain.
var Genesis = string(bytes.Repeat([]byte("0"), 64))

// Record is one line of the log.
type Record struct {
	// Seq numbers records from 1, without gaps, across files.
	Seq uint64 `json:"seq"`
	// TS is when the record was written (UTC).
	TS time.Time `json:"ts"`
	// Kind says what happened: start, stop, checkpoint, config, ...
	Kind string `json:"kind"`
	// Prev is the Hash of the record before, or Genesis.
	Prev string `json:"prev"`
	// Data is the kind's payload.
	Data json.RawMessage `json:"data,omitempty"`
	// Hash is the SHA-256 of the line up to (not including) `,"hash":`.
	Hash string `json:"hash"`
}

// Checkpoint is the Data of a checkpoint record.
type Checkpoint struct {
	// Reason is "start", "stop" or "periodic".
	Reason string `json:"reason"`
	// Key is the device key's fingerprint; PublicKey the key itself
	// (minisign encoding), so that the log can be checked anywhere. Pin it
	// with `edge audit verify --pubkey` to refuse a chain re-signed with
	// another key.
	Key       string `json:"key"`
	PublicKey string `json:"public_key"`
	// Sig is the minisign signature of CheckpointMessage.
	Sig string `json:"sig"`
}

// CheckpointMessage is what a checkpoint's signature covers: its place in
// the chain (seq, prev) and its time and reason.
func CheckpointMessage(seq uint64, ts time.Time, prev, reason string) []byte {
	return fmt.Appendf(nil, "edge audit checkpoint v1\nseq %d\nts %s\nprev %s\nreason %s\n",
		seq, ts.UTC().Format(time.RFC3339Nano), prev, reason)
}

const hashKey = `,"hash":"`

// encode renders r (whose Hash is ignored) as one line without the newline,
// and returns it with its hash.
func encode(r Record) ([]byte, string, error) {
	r.Hash = ""
	b, err := json.Marshal(struct {
		Seq  uint64          `json:"seq"`
		TS   string          `json:"ts"`
		Kind string          `json:"kind"`
		Prev string          `json:"prev"`
		Data json.RawMessage `json:"data,omitempty"`
	}{r.Seq, r.TS.UTC().Format(time.RFC3339Nano), r.Kind, r.Prev, r.Data})
	if err != nil {
		return nil, "", err
	}
	body := b[:len(b)-1] // without the closing brace
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(body)+len(hashKey)+66)
	line = append(line, body...)
	line = append(line, hashKey...)
	line = append(line, h...)
	line = append(line, '"', '}')
	return line, h, nil
}

// errHash and friends say why a line is not a sound record.
var (
	errSyntax = errors.New("not a JSON record")
	errHash   = errors.New("its content does not match its own hash (the record was changed)")
)

// decode parses a line and checks it against its own hash.
func decode(line []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("%w: %w", errSyntax, err)
	}
	suffix := hashKey + r.Hash + `"}`
	if len(r.Hash) != 64 || !bytes.HasSuffix(line, []byte(suffix)) {
		return r, errHash
	}
	sum := sha256.Sum256(line[:len(line)-len(suffix)])
	if hex.EncodeToString(sum[:]) != r.Hash {
		return r, errHash
	}
	return r, nil
}
