package configs

import (
	"fmt"
	"log/slog"

	"github.com/edgeprivacy/edge/internal/redact"
)

// DefaultHTTPAddr is where the operator console, API and metrics listen by
// default: loopback, so nothing is exposed until an operator chooses.
const DefaultHTTPAddr = "127.0.0.1:8080"

// HTTPOff as http.addr (or `edge run --http off`) runs no HTTP server.
const HTTPOff = "off"

// HTTP is the server of the operator console, the JSON API, /metrics and the
// health checks, one per `edge run`.
type HTTP struct {
	// Addr is the listen address. It defaults to 127.0.0.1:8080; "off"
	// turns the server off.
	Addr string `mapstructure:"addr"`
	// Username and Password, when set, are required from every client (HTTP
	// basic auth; use TLS beyond loopback). The password is never logged.
	Username string `mapstructure:"username"`
	Password string `mapstructure:"password"`
	// AllowAnonymous lets a non-loopback address run without credentials.
	AllowAnonymous bool `mapstructure:"allow_anonymous"`
	// TLSCert and TLSKey are PEM files; with both set the server speaks HTTPS.
	TLSCert string `mapstructure:"tls_cert"`
	TLSKey  string `mapstructure:"tls_key"`
}

// Enabled reports whether the HTTP server runs.
func (h *HTTP) Enabled() bool { return h.Addr != HTTPOff }

// TLS reports whether the server speaks HTTPS.
func (h *HTTP) TLS() bool { return h.TLSCert != "" }

func (h *HTTP) applyDefaults() {
	if h.Addr == "" {
		h.Addr = DefaultHTTPAddr
	}
}

func (h *HTTP) validate(v *validator) {
	if !h.Enabled() {
		return
	}
	checkListenAddr(v, "http.addr", h.Addr, "127.0.0.1:8080 (0.0.0.0:8080 to serve the network, with a username and password), or off")
	checkListenAuth(v, "http", h.Addr, h.Username, h.Password, h.AllowAnonymous)
	if h.TLSCert != "" && h.TLSKey == "" {
		v.add("http.tls_key", "set http.tls_key to the private key of http.tls_cert, or remove tls_cert", "tls_cert given without a key")
	}
	if h.TLSKey != "" && h.TLSCert == "" {
		v.add("http.tls_cert", "set http.tls_cert to the certificate of http.tls_key, or remove tls_key", "tls_key given without a cert")
	}
}

// String prints the HTTP settings with the password hidden.
func (h HTTP) String() string {
	return fmt.Sprintf("{addr:%q username:%q password:%q allow_anonymous:%t tls_cert:%q tls_key:%q}",
		h.Addr, h.Username, redact.Value(h.Password), h.AllowAnonymous, h.TLSCert, h.TLSKey)
}

// GoString is String, so that %#v does not print the password either.
func (h HTTP) GoString() string { return "configs.HTTP" + h.String() }

// LogValue implements slog.LogValuer without the password.
func (h HTTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", h.Addr), slog.String("username", h.Username),
		slog.String("password", redact.Value(h.Password)), slog.Bool("tls", h.TLS()))
}
