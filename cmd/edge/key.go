package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/edgeprivacy/edge/internal/devicekey"
)

// cmdKey is `edge key show`: the device's public key (created on first use)
// and its fingerprint, for an inspector to check signed reports with
// `minisign -V -p KEY.pub`.
func cmdKey(_ context.Context, args []string) error {
	usage := errors.New("usage: edge key show [--key FILE]")
	if len(args) == 0 || args[0] != "show" {
		return &exitError{2, usage}
	}
	fs := flag.NewFlagSet("key show", flag.ContinueOnError)
	path := fs.String("key", "", "device key `FILE` (default $"+devicekey.EnvPath+" or ~/.config/edge/device.key)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &exitError{2, usage}
	}
	k, created, err := loadDeviceKey(*path)
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("created a new device key at %s\n", k.Path())
	}
	fmt.Printf("%sfingerprint: %s\nkey file: %s\n", k.PublicKeyFile(), k.Fingerprint(), k.Path())
	return nil
}

// loadDeviceKey loads (or creates on first use) the device key at path, or
// at the default place when path is empty.
func loadDeviceKey(path string) (*devicekey.Key, bool, error) {
	if path == "" {
		p, err := devicekey.DefaultPath()
		if err != nil {
			return nil, false, &exitError{2, err}
		}
		path = p
	}
	return devicekey.LoadOrCreate(path)
}
