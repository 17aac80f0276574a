package zones

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Fingerprint names a list of privacy zones by content: "none" for no
// zones, else the number of zones and the first 16 hex digits of the
// SHA-256 of their ids and points in order ("2 zones sha256:…"). Each
// recording segment carries the fingerprint of the zones its pictures were
// masked with, and `edge verify` compares it with the config's, so the
// text is stable across versions and platforms.
func Fingerprint(zs []Zone) string {
	if len(zs) == 0 {
		return "none"
	}
	var b strings.Builder
	for _, z := range zs {
		b.WriteString(strconv.Quote(z.ID))
		for _, p := range z.Polygon {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(p.X, 'g', -1, 64))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(p.Y, 'g', -1, 64))
		}
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	n := strconv.Itoa(len(zs)) + " zones"
	if len(zs) == 1 {
		n = "1 zone"
	}
	return n + " sha256:" + hex.EncodeToString(sum[:8])
}
