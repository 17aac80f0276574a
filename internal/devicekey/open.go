package devicekey

import (
	"fmt"
	"io"

	"github.com/edgeprivacy/edge/internal/exitcode"
)

// Open loads (or creates on first use) the device key at path, or at
// DefaultPath when path is empty; without a default place the error is a
// usage error (exit status 2).
func Open(path string) (k *Key, created bool, err error) {
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, false, exitcode.New(exitcode.Usage, err)
		}
		path = p
	}
	return LoadOrCreate(path)
}

// Show is `edge key show`: the device's public key (created on first use)
// and its fingerprint, for an inspector to check signed reports with
// `minisign -V -p KEY.pub`.
func Show(w io.Writer, path string) error {
	k, created, err := Open(path)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(w, "created a new device key at %s\n", k.Path())
	}
	fmt.Fprintf(w, "%sfingerprint: %s\nkey file: %s\n", k.PublicKeyFile(), k.Fingerprint(), k.Path())
	return nil
}
