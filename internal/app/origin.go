package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/edgeprivacy/edge/internal/buildinfo"
	"github.com/edgeprivacy/edge/stages/record"
)

// recordingOrigin is what each recording segment of camera id says about
// where it came from: the hash of the config in force, the build revision
// and the camera sign's status, read as the segment starts. privacyZones is
// the fingerprint of the zones the segment was masked with: while a reload
// is being applied, the segment names whichever config, the one in force or
// the one being applied, has those privacy zones, so a segment cut by a
// privacy change names the config whose zones it holds.
func (r *runner) recordingOrigin(id, privacyZones string) map[string]string {
	tags := map[string]string{record.TagRevision: buildinfo.Read().RevisionLabel()}
	cur := r.inForce.Load()
	if next := r.applying.Load(); next != nil && cur != nil {
		if c, ok := next.cfg.Camera(id); ok && c.PrivacyFingerprint() == privacyZones {
			if o, ok := cur.cfg.Camera(id); !ok || o.PrivacyFingerprint() != privacyZones {
				cur = next
			}
		}
	}
	if cur == nil {
		return tags
	}
	sum := sha256.Sum256(cur.raw)
	tags[record.TagConfigHash] = hex.EncodeToString(sum[:])
	cam, ok := cur.cfg.Camera(id)
	if !ok || cam.Signage == "" {
		tags[record.TagSignage] = "no camera sign"
		return tags
	}
	tags[record.TagSignage] = "camera sign " + cam.Signage + ": not registered"
	for _, s := range cur.cfg.Signage {
		if s.ID == cam.Signage {
			tags[record.TagSignage] = fmt.Sprintf("camera sign %s: %s (verified %s, expires %s)", s.ID,
				s.ToZones().StatusAt(time.Now()), fmtTime(s.VerifiedAt), fmtTime(s.ExpiresAt))
		}
	}
	return tags
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
