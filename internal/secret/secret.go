// Package secret compares secrets (passwords, user names, digest answers)
// the one way edge does: in constant time whatever their lengths.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Equal reports whether a and b are equal. Both are hashed to SHA-256 first,
// so the comparison always runs over 32 bytes: neither a length nor a
// matching prefix shows in the time it takes.
func Equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}
