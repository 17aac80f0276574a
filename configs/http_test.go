package configs_test

import (
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

func TestHTTPValidation(t *testing.T) {
	cases := []struct {
		name string
		http configs.HTTP
		path string // "" when valid
		want string
	}{
		{"default loopback, no auth", configs.HTTP{}, "", ""},
		{"off", configs.HTTP{Addr: "off"}, "", ""},
		{"localhost, no auth", configs.HTTP{Addr: "localhost:9000"}, "", ""},
		{"ipv6 loopback, no auth", configs.HTTP{Addr: "[::1]:9000"}, "", ""},
		{"all interfaces with auth", configs.HTTP{Addr: ":8080", Username: "op", Password: "pw"}, "", ""},
		{"all interfaces, anonymous allowed", configs.HTTP{Addr: "0.0.0.0:8080", AllowAnonymous: true}, "", ""},
		{"all interfaces, no auth", configs.HTTP{Addr: "0.0.0.0:8080"}, "http.username", "allow_anonymous"},
		{"empty host, no auth", configs.HTTP{Addr: ":8080"}, "http.username", "reachable from other machines"},
		{"lan address, no auth", configs.HTTP{Addr: "192.168.1.5:8080"}, "http.username", "listen on 127.0.0.1"},
		{"username, empty password", configs.HTTP{Username: "op"}, "http.password", "empty password"},
		{"password without username", configs.HTTP{Password: "pw"}, "http.username", "set http.username"},
		{"not host:port", configs.HTTP{Addr: "8080"}, "http.addr", "host:port"},
		{"bad port", configs.HTTP{Addr: "127.0.0.1:70000"}, "http.addr", "host:port"},
		{"cert without key", configs.HTTP{TLSCert: "c.pem"}, "http.tls_key", "private key"},
		{"key without cert", configs.HTTP{TLSKey: "k.pem"}, "http.tls_cert", "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			c.HTTP = tc.http
			c.ApplyDefaults()
			err := c.Validate()
			if tc.path == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			for _, p := range problems(t, err) {
				if p.Path == tc.path && strings.Contains(p.Msg+" "+p.Fix, tc.want) {
					return
				}
			}
			t.Fatalf("no problem at %s mentioning %q in:\n%v", tc.path, tc.want, err)
		})
	}
}

func TestHTTPDefaultsAndSecrets(t *testing.T) {
	c := mustValid(t)
	if c.HTTP.Addr != configs.DefaultHTTPAddr || !c.HTTP.Enabled() {
		t.Fatalf("http default %q, want %q and enabled", c.HTTP.Addr, configs.DefaultHTTPAddr)
	}
	h := configs.HTTP{Addr: ":1", Username: "op", Password: "hunter2"}
	for _, s := range []string{h.String(), h.GoString(), h.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
	}
}

func TestHTTPEnvOverride(t *testing.T) {
	t.Setenv("EDGE_HTTP_ADDR", "0.0.0.0:9090")
	t.Setenv("EDGE_HTTP_USERNAME", "op")
	t.Setenv("EDGE_HTTP_PASSWORD", "pw")
	c, err := configs.LoadBytes([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "0.0.0.0:9090" || c.HTTP.Username != "op" || c.HTTP.Password != "pw" {
		t.Fatalf("env not applied: %v", c.HTTP)
	}
}
