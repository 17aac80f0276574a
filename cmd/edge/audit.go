package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
)

const auditUsage = "usage: edge audit verify [--pubkey FILE] PATH | edge audit export (--config FILE | --dir DIR) --from T --to T --out DIR [--key FILE]"

// cmdAudit is `edge audit verify` (exit 0 whole, 1 naming the first broken
// record, 2 unreadable) and `edge audit export`.
func cmdAudit(_ context.Context, args []string) error {
	if len(args) == 0 {
		return &exitError{2, errors.New(auditUsage)}
	}
	switch args[0] {
	case "verify":
		return auditVerify(os.Stdout, args[1:])
	case "export":
		return auditExport(os.Stdout, args[1:])
	}
	return &exitError{2, errors.New(auditUsage)}
}

func auditVerify(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	pubPath := fs.String("pubkey", "", "require checkpoints signed by this minisign public key `FILE` (from `edge key show`)")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if fs.NArg() != 1 {
		return &exitError{2, errors.New("usage: edge audit verify [--pubkey FILE] PATH (an audit folder or one file)")}
	}
	var pin *minisign.PublicKey
	if *pubPath != "" {
		pub, err := devicekey.ReadPublicKey(*pubPath)
		if err != nil {
			return &exitError{2, err}
		}
		pin = &pub
	}
	paths, err := audit.Paths(fs.Arg(0))
	if err != nil {
		return &exitError{2, fmt.Errorf("audit log %s: %w", fs.Arg(0), err)}
	}
	s, err := audit.Verify(paths, pin)
	switch {
	case audit.IsBroken(err):
		return &exitError{1, fmt.Errorf("audit chain broken after %d sound records: %w", s.Records, err)}
	case err != nil:
		return &exitError{2, fmt.Errorf("audit log unreadable: %w", err)}
	}
	fmt.Fprintf(w, "audit chain whole: %d records (%d..%d) in %d file(s), %d signed checkpoint(s)\n",
		s.Records, s.FirstSeq, s.LastSeq, s.Files, s.Checkpoints)
	if s.Key != "" {
		fmt.Fprintf(w, "checkpoints signed by %s (compare with `edge key show` on the device, or pass --pubkey)\n", s.Key)
	}
	if s.Uncovered > 0 {
		fmt.Fprintf(w, "note: the last %d record(s) follow the last checkpoint; they could have been cut off without trace\n", s.Uncovered)
	}
	return nil
}

func auditExport(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "config `FILE` whose audit.dir to export")
	dir := fs.String("dir", "", "audit `DIR` (instead of --config)")
	fromS := fs.String("from", "", "first time, RFC 3339 or YYYY-MM-DD")
	toS := fs.String("to", "", "last time, RFC 3339 or YYYY-MM-DD")
	out := fs.String("out", "", "output `DIR`")
	keyPath := fs.String("key", "", "device key `FILE` (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key)")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	from, ferr := parseTime(*fromS)
	to, terr := parseTime(*toS)
	if fs.NArg() != 0 || *out == "" || (*cfgPath == "") == (*dir == "") || ferr != nil || terr != nil || to.Before(from) {
		return &exitError{2, fmt.Errorf("%s (%w)", auditUsage, errors.Join(ferr, terr))}
	}
	if *cfgPath != "" {
		cfg, err := configs.Load(*cfgPath)
		if err != nil {
			return err
		}
		*dir = cfg.Audit.Dir
	}
	paths, err := audit.Paths(*dir)
	if err != nil {
		return &exitError{2, fmt.Errorf("audit log %s: %w", *dir, err)}
	}
	key, _, err := loadDeviceKey(*keyPath)
	if err != nil {
		return err
	}
	m, err := audit.Export(paths, from, to, *out, key)
	switch {
	case audit.IsBroken(err):
		return &exitError{1, fmt.Errorf("not exported, the audit chain is broken: %w", err)}
	case err != nil:
		return &exitError{2, err}
	}
	fmt.Fprintf(w, "exported %d record(s) to %s with a manifest signed by %s\n", m.Records, *out, m.Key)
	return nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: write it like 2026-01-01T00:00:00Z or 2026-01-01", s)
}
