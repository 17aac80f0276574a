// Package broker runs an embedded MQTT broker (mochi-mqtt) for the demo and
// for tests, so that `make demo` needs no external broker. It allows every
// client and topic: it listens on loopback only and is not for production.
package broker

import (
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// DefaultAddr is where Start listens when addr is empty: a free loopback port.
const DefaultAddr = "127.0.0.1:0"

// Option tunes Start.
type Option func(*options)

type options struct{ log *slog.Logger }

// WithLogger sets the broker's logger. It defaults to slog.Default() at
// warning level and above, because mochi logs every client at info.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Broker is a running embedded MQTT broker.
type Broker struct {
	srv       *mqtt.Server
	addr      string
	closeOnce sync.Once
}

// Start listens on addr (host:port; port 0 picks a free one; empty means
// DefaultAddr) and serves MQTT 3.1.1 and 5 until Close. The host must be a
// loopback address: the broker authenticates nobody.
func Start(addr string, opts ...Option) (*Broker, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker address %q: %w (use host:port, e.g. 127.0.0.1:1883)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("embedded broker address %q: allows every client, so it listens on loopback only (use 127.0.0.1:PORT, or configure mqtt.broker)", addr)
	}
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(warnOnly{slog.Default().Handler()})
	}
	srv := mqtt.New(&mqtt.Options{Logger: o.log.With("component", "mqtt-broker")})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		return nil, fmt.Errorf("embedded broker: add allow-all hook: %w", err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("embedded broker: listen on %s: %w (is the port in use?)", addr, err)
	}
	// Serve starts the listener and housekeeping goroutines and returns.
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("embedded broker: serve: %w", err)
	}
	return &Broker{srv: srv, addr: tcp.Address()}, nil
}

// Addr is the host:port the broker listens on.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker address as an MQTT URL, "tcp://127.0.0.1:PORT".
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Close disconnects every client and stops listening. It is safe to call
// more than once.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() { err = b.srv.Close() })
	return err
}

// allowAll lets every client connect and use every topic. mochi's own
// auth.AllowHook does the same but its package pulls in a YAML module that
// this module does not otherwise need.
type allowAll struct{ mqtt.HookBase }

func (*allowAll) ID() string { return "allow-all" }

func (*allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (*allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (*allowAll) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
