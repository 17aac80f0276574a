// Package manifest seals a report folder: a MANIFEST of the SHA-256 of
// every file in it (in sha256sum's format, so `sha256sum -c MANIFEST`
// checks the files) and MANIFEST.minisig, the device key's minisign
// signature over it (so `minisign -V -m MANIFEST -p device.pub` checks the
// manifest). Neither check needs our binary; Check does both at once.
package manifest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// File names in a sealed folder.
const (
	Name      = "MANIFEST"
	Signature = "MANIFEST.minisig"
	header    = "# edge report manifest v1"
)

// Input names an input that is not in the folder (the config, the video)
// by its hash, so the signature covers which inputs were judged.
type Input struct {
	Role, Path, SHA256 string
}

// ErrUnreadable marks a folder that cannot be checked at all (no manifest,
// no signature, a malformed one): commands map it to exit code 2.
var ErrUnreadable = errors.New("manifest: unreadable")

// Seal writes MANIFEST and MANIFEST.minisig into dir, covering every
// regular file directly in dir.
func Seal(dir string, inputs []Input, key *devicekey.Key) error {
	files, err := listFiles(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintln(&b, header)
	fmt.Fprintf(&b, "# signed by %s\n", key.Fingerprint())
	for _, in := range inputs {
		fmt.Fprintf(&b, "# %s %s %s\n", oneLine(in.Role), in.SHA256, oneLine(in.Path))
	}
	for _, f := range files {
		sum, err := hashFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, f)
	}
	msg := []byte(b.String())
	if err := privfile.WriteFile(filepath.Join(dir, Name), msg); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	sig := key.SignWithComment(msg, "edge report "+filepath.Base(dir)+" key "+key.Fingerprint())
	if err := privfile.WriteFile(filepath.Join(dir, Signature), sig); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// Result is what Check found.
type Result struct {
	// SignatureOK says the manifest is exactly what the key signed.
	SignatureOK bool
	// TrustedComment is the signed comment (after a good signature).
	TrustedComment          string
	Changed, Added, Removed []string
	Inputs                  []Input
}

// OK says everything matched.
func (r Result) OK() bool {
	return r.SignatureOK && len(r.Changed) == 0 && len(r.Added) == 0 && len(r.Removed) == 0
}

// Problems lists each mismatch as a line.
func (r Result) Problems() []string {
	var out []string
	if !r.SignatureOK {
		out = append(out, "MANIFEST: signature does not match (the manifest was changed, or signed by another key)")
	}
	for _, f := range r.Changed {
		out = append(out, "changed: "+f)
	}
	for _, f := range r.Added {
		out = append(out, "added: "+f)
	}
	for _, f := range r.Removed {
		out = append(out, "removed: "+f)
	}
	return out
}

// Check verifies dir's manifest signature with pub and every file against
// the manifest. An error wraps ErrUnreadable when there is nothing to check.
func Check(dir string, pub minisign.PublicKey) (Result, error) {
	var r Result
	msg, err := os.ReadFile(filepath.Join(dir, Name))
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	sig, err := os.ReadFile(filepath.Join(dir, Signature))
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if _, err := devicekey.TrustedComment(sig); err != nil {
		return r, fmt.Errorf("%w: %s: %w", ErrUnreadable, Signature, err)
	}
	if devicekey.Verify(pub, msg, sig) == nil {
		r.SignatureOK = true
		r.TrustedComment, _ = devicekey.TrustedComment(sig)
	}
	listed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(msg))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			if line != header {
				return r, fmt.Errorf("%w: %s does not start with %q", ErrUnreadable, Name, header)
			}
			first = false
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if f := strings.SplitN(rest, " ", 3); len(f) == 3 && f[0] != "signed" {
				r.Inputs = append(r.Inputs, Input{Role: f[0], SHA256: f[1], Path: f[2]})
			}
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") {
			return r, fmt.Errorf("%w: %s: malformed line %q", ErrUnreadable, Name, line)
		}
		listed[name] = sum
	}
	files, err := listFiles(dir)
	if err != nil {
		return r, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	for _, f := range files {
		want, ok := listed[f]
		if !ok {
			r.Added = append(r.Added, f)
			continue
		}
		got, err := hashFile(filepath.Join(dir, f))
		if err != nil || got != want {
			r.Changed = append(r.Changed, f)
		}
	}
	for name := range listed {
		if !slices.Contains(files, name) {
			r.Removed = append(r.Removed, name)
		}
	}
	slices.Sort(r.Removed)
	return r, nil
}

// listFiles names every entry of dir but the manifest and its signature,
// sorted. A folder or a link inside counts too: it is not what was sealed.
func listFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); n != Name && n != Signature {
			out = append(out, n)
		}
	}
	return out, nil // ReadDir sorts by name
}

func hashFile(path string) (string, error) {
	// Lstat first: a link to an identical copy would pass the hash today
	// and show whatever its target holds tomorrow.
	if fi, err := os.Lstat(path); err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("manifest: %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("manifest: %s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
