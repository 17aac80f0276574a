package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
)

// KindReport is the audit record of a report edge verify produced.
const KindReport = "report"

// AuditRecord is the Data of a report record: what was judged, the
// verdict, and the SHA-256 of the signed MANIFEST, which ties the record to
// every file of the report folder.
type AuditRecord struct {
	Dir            string  `json:"dir"`
	Verdict        string  `json:"verdict"`
	Mode           string  `json:"mode"`
	Camera         string  `json:"camera"`
	Config         FileRef `json:"config"`
	Input          FileRef `json:"input"`
	FramesChecked  int     `json:"frames_checked"`
	FramesLeaked   int     `json:"frames_leaked"`
	ManifestSHA256 string  `json:"manifest_sha256"`
	Key            string  `json:"key"`
	Version        string  `json:"version"`
}

// Audit appends a report record for the sealed report folder out to the
// audit log in dir (the config's audit.dir when dir is empty), followed by
// a checkpoint signed with key so that the record is covered at once. A
// running edge may be writing the same log: internal/audit locks the
// folder and continues its chain.
func (r *Report) Audit(dir, out string, key *devicekey.Key) error {
	if dir == "" {
		dir = r.audit.Dir
	}
	if dir == "" {
		return errors.New("audit log: no folder (audit.dir in the config, or --audit)")
	}
	m, err := os.ReadFile(filepath.Join(out, manifest.Name))
	if err != nil {
		return fmt.Errorf("audit record of report %s: seal it first: %w", out, err)
	}
	sum := sha256.Sum256(m)
	abs, err := filepath.Abs(out)
	if err != nil {
		abs = out
	}
	l, err := audit.Open(audit.Config{Dir: dir, MaxBytes: r.audit.MaxBytes, Key: key})
	if err != nil {
		return fmt.Errorf("%w (audit.dir in the config, or --audit)", err)
	}
	rec := AuditRecord{
		Dir: abs, Verdict: r.Verdict, Mode: r.Mode, Camera: r.Camera, Config: r.Config, Input: r.Video,
		FramesChecked: r.FramesChecked, FramesLeaked: r.FramesLeaked,
		ManifestSHA256: hex.EncodeToString(sum[:]), Key: key.Fingerprint(), Version: r.Version,
	}
	err = l.Write(KindReport, rec)
	if err == nil {
		err = l.Checkpoint(KindReport)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}
