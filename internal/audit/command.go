package audit

import (
	"fmt"
	"io"
	"time"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/exitcode"
)

// VerifyCommand is `edge audit verify [--pubkey FILE] PATH`: exit status 0
// when the chain is whole, 1 naming the first broken record, 2 when the log
// or key is unreadable. pubPath, when set, pins the checkpoint signer.
func VerifyCommand(w io.Writer, path, pubPath string) error {
	var pin *minisign.PublicKey
	if pubPath != "" {
		pub, err := devicekey.ReadPublicKey(pubPath)
		if err != nil {
			return exitcode.New(exitcode.Usage, err)
		}
		pin = &pub
	}
	paths, err := Paths(path)
	if err != nil {
		return exitcode.New(exitcode.Usage, fmt.Errorf("audit log %s: %w", path, err))
	}
	s, err := Verify(paths, pin)
	switch {
	case IsBroken(err):
		return exitcode.New(exitcode.Failed, fmt.Errorf("audit chain broken after %d sound records: %w", s.Records, err))
	case err != nil:
		return exitcode.New(exitcode.Usage, fmt.Errorf("audit log unreadable: %w", err))
	}
	fmt.Fprintf(w, "audit chain whole: %d records (%d..%d) in %d file(s), %d signed checkpoint(s)\n",
		s.Records, s.FirstSeq, s.LastSeq, s.Files, s.Checkpoints)
	if s.Key != "" {
		fmt.Fprintf(w, "checkpoints signed by %s (compare with `edge key show` on the device, or pass --pubkey)\n", s.Key)
	}
	if s.Uncovered > 0 {
		fmt.Fprintf(w, "note: the last %d record(s) follow the last checkpoint; they could have been cut off without trace\n", s.Uncovered)
	}
	if s.Checkpoints > 0 && s.LastCheckpoint != ReasonStop {
		// A log cut back to an earlier checkpoint verifies whole: say that
		// it does not end as a stopped edge's log does.
		fmt.Fprintf(w, "note: the last checkpoint is %q at %s, not a stop: edge is still running, stopped uncleanly, or the records after it were cut off (compare with the device)\n",
			s.LastCheckpoint, s.LastCheckpointAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// ExportCommand is `edge audit export`: the records of dir between from and
// to into out, with a manifest signed by the device key at keyPath (the
// default place when empty). A broken chain is exit status 1 and nothing is
// exported.
func ExportCommand(w io.Writer, dir string, from, to time.Time, out, keyPath string) error {
	paths, err := Paths(dir)
	if err != nil {
		return exitcode.New(exitcode.Usage, fmt.Errorf("audit log %s: %w", dir, err))
	}
	key, _, err := devicekey.Open(keyPath)
	if err != nil {
		return err
	}
	m, err := Export(paths, from, to, out, key)
	switch {
	case IsBroken(err):
		return exitcode.New(exitcode.Failed, fmt.Errorf("not exported, the audit chain is broken: %w", err))
	case err != nil:
		return exitcode.New(exitcode.Usage, err)
	}
	fmt.Fprintf(w, "exported %d record(s) to %s with a manifest signed by %s\n", m.Records, out, m.Key)
	return nil
}

// ParseTime reads an export bound: RFC 3339 or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: write it like 2026-01-01T00:00:00Z or 2026-01-01", s)
}
