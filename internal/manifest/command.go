package manifest

import (
	"fmt"
	"io"
	"strings"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/exitcode"
)

// CheckCommand is `edge report check DIR`: the folder against its signed
// manifest, checked with the public key in pubPath or, when that is empty,
// with the device key at keyPath (the default place when empty). Exit
// status 0 when everything matches, 1 naming each changed, added or removed
// file (or a bad signature), 2 when the folder or key cannot be read.
func CheckCommand(w io.Writer, dir, pubPath, keyPath string) error {
	pub, err := checkKey(pubPath, keyPath)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	r, err := Check(dir, pub)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if !r.OK() {
		for _, p := range r.Problems() {
			fmt.Fprintln(w, p)
		}
		return exitcode.New(exitcode.Failed, fmt.Errorf("%s does not match its signed manifest: %s", dir, strings.Join(r.Problems(), "; ")))
	}
	fmt.Fprintf(w, "OK: every file in %s matches its manifest, signed by %s (%s)\n", dir, devicekey.Fingerprint(pub), r.TrustedComment)
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "%s: %s sha256 %s\n", in.Role, in.Path, in.SHA256)
	}
	return nil
}

// checkKey is the public key a report is checked with: the signer's from
// pubPath, else this device's own (never created here: a fresh key would
// fail every check and hide the real mistake).
func checkKey(pubPath, keyPath string) (minisign.PublicKey, error) {
	if pubPath != "" {
		return devicekey.ReadPublicKey(pubPath)
	}
	if keyPath == "" {
		p, err := devicekey.DefaultPath()
		if err != nil {
			return minisign.PublicKey{}, err
		}
		keyPath = p
	}
	k, err := devicekey.Load(keyPath)
	if err != nil {
		return minisign.PublicKey{}, fmt.Errorf("%w (or give the signer's public key with --pubkey)", err)
	}
	return k.PublicKey(), nil
}
