package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"aead.dev/minisign"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
)

// cmdReport is `edge report check DIR [--pubkey FILE]`: the report folder
// against its signed manifest. Exit 0 when everything matches, 1 naming
// each changed, added or removed file (or a bad signature), 2 when the
// folder or key cannot be read.
func cmdReport(_ context.Context, args []string) error {
	usage := errors.New("usage: edge report check DIR [--pubkey FILE]")
	if len(args) == 0 || args[0] != "check" {
		return &exitError{2, usage}
	}
	fs := flag.NewFlagSet("report check", flag.ContinueOnError)
	pubPath := fs.String("pubkey", "", "minisign public key `FILE` of the device that signed (default: this device's key)")
	keyPath := fs.String("key", "", "this device's key `FILE`, when --pubkey is not given")
	// Flags may come before or after DIR.
	var dir string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return &exitError{2, err}
		}
		rest = fs.Args()
		if len(rest) > 0 {
			if dir != "" {
				return &exitError{2, usage}
			}
			dir, rest = rest[0], rest[1:]
		}
	}
	if dir == "" {
		return &exitError{2, usage}
	}
	var pub minisign.PublicKey
	if *pubPath != "" {
		p, err := devicekey.ReadPublicKey(*pubPath)
		if err != nil {
			return &exitError{2, err}
		}
		pub = p
	} else {
		path := *keyPath
		if path == "" {
			p, err := devicekey.DefaultPath()
			if err != nil {
				return &exitError{2, err}
			}
			path = p
		}
		k, err := devicekey.Load(path)
		if err != nil {
			return &exitError{2, fmt.Errorf("%w (or give the signer's public key with --pubkey)", err)}
		}
		pub = k.PublicKey()
	}
	r, err := manifest.Check(dir, pub)
	if err != nil {
		return &exitError{2, err}
	}
	if !r.OK() {
		for _, p := range r.Problems() {
			fmt.Println(p)
		}
		return &exitError{1, fmt.Errorf("%s does not match its signed manifest: %s", dir, strings.Join(r.Problems(), "; "))}
	}
	fmt.Printf("OK: every file in %s matches its manifest, signed by %s (%s)\n", dir, devicekey.Fingerprint(pub), r.TrustedComment)
	for _, in := range r.Inputs {
		fmt.Printf("%s: %s sha256 %s\n", in.Role, in.Path, in.SHA256)
	}
	return nil
}
