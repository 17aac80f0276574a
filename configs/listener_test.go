package configs_test

import (
	"testing"
)

// TestRestreamAuthAccepted: what the auth rule lets through.
func TestRestreamAuthAccepted(t *testing.T) {
	for _, c := range []struct {
		name, addr, user, pass string
		anon                   bool
	}{
		{"loopback without auth", "127.0.0.1:8554", "", "", false},
		{"localhost without auth", "localhost:8554", "", "", false},
		{"network with auth", "0.0.0.0:8554", "viewer", "s3cret", false},
		{"network, anonymous by choice", "0.0.0.0:8554", "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustValid(t)
			cfg.Restream.Addr, cfg.Restream.Username, cfg.Restream.Password, cfg.Restream.AllowAnonymous = c.addr, c.user, c.pass, c.anon
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
