package publish

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
)

// Defaults for Config fields left zero.
const (
	DefaultSpoolMaxBytes        = 64 << 20
	DefaultQueueSize            = 1024
	DefaultPublishTimeout       = 10 * time.Second
	DefaultConnectRetryInterval = time.Second
	// DefaultConnectTimeout is half of nats-server's 4 s internal request
	// time-out. While its cluster elects a new leader for the session
	// stream, a node holds a CONNECT for those 4 s and then closes it, and
	// takes no other CONNECT of that client meanwhile; giving up after 2 s
	// and trying the other survivor makes a fresh attempt every 2 s, so the
	// box is connected at most about 2 s after the election (see
	// docs/fleet.md).
	DefaultConnectTimeout       = 2 * time.Second
	DefaultMaxReconnectInterval = 10 * time.Second
	DefaultDrainTimeout         = 5 * time.Second
	DefaultHeartbeatInterval    = 15 * time.Second
	DefaultTLSReloadInterval    = 5 * time.Second
	// DefaultKeepAlive is short so that a broker node that vanishes without
	// closing the connection (power cut, partition) is noticed in seconds.
	DefaultKeepAlive = 10 * time.Second
)

// TLS holds PEM file paths for ssl://, mqtts:// and wss:// brokers.
type TLS struct {
	// CA verifies the broker; empty means the system roots.
	CA string
	// Cert and Key are a client certificate, for brokers that require one;
	// both or neither.
	Cert string
	Key  string
}

// Config configures a Publisher.
type Config struct {
	// Brokers are the URLs of the nodes of one (clustered) broker:
	// tcp://host:1883, mqtt://, ssl://, mqtts://, ws://, wss://. At least one,
	// counting Broker. User information in them is used but never logged.
	// Each box tries them in its own order (shuffled with a seed taken from
	// ClientID), so that a fleet spreads over the nodes, and moves to the next
	// one when a connection is lost or refused.
	Brokers []string
	// Broker is a shorthand for a one-node broker; it is tried first.
	Broker string
	// ClientID defaults to "edge-" + the host name. It must be stable across
	// restarts: the broker keeps the box's persistent session under it.
	ClientID string
	// Site and Box name the box in its heartbeat.
	Site, Box string
	// Build is the edge version, reported in the heartbeat.
	Build string
	// HeartbeatInterval is the period of {prefix}/heartbeat. It defaults to
	// 15 s.
	HeartbeatInterval time.Duration
	// KeepAlive is the MQTT keep-alive. It defaults to 10 s.
	KeepAlive time.Duration
	Username  string
	// Password is never logged.
	Password string
	TLS      TLS
	// QoS is 0, 1 or 2 for every publish. With 0 the broker does not
	// acknowledge, so an event counts as delivered once it is written to
	// the connection; use 1 (the configs default) for at-least-once.
	QoS byte
	// TopicPrefix is the first topic level(s). It defaults to "edge".
	TopicPrefix string
	// SpoolDir holds events not yet acknowledged by the broker. Required.
	SpoolDir string
	// SpoolMaxBytes bounds the spool. It defaults to 64 MiB. When it is
	// full, new events are refused, counted and logged.
	SpoolMaxBytes int64
	// QueueSize bounds the queue behind Offer. It defaults to 1024.
	QueueSize int
	// PublishTimeout bounds the wait for one PUBACK (and for writing a
	// packet); after it the publish is retried. It defaults to 10 s.
	PublishTimeout time.Duration
	// ConnectTimeout bounds one connection attempt (dial, TLS, CONNECT to
	// CONNACK) in the first two rounds over the nodes after a loss; it
	// doubles every two rounds after that, up to PublishTimeout, so that a
	// slow link still gets through. It defaults to 2 s.
	ConnectTimeout time.Duration
	// ConnectRetryInterval is the first pause before a reconnection (and
	// between failed attempts, doubling from there), randomised by +-50% so
	// that the boxes of a fleet do not reconnect in step. It defaults to 1 s.
	ConnectRetryInterval time.Duration
	// MaxReconnectInterval caps that back-off. It defaults to 10 s.
	MaxReconnectInterval time.Duration
	// TLSReloadInterval is how often the TLS files are checked for changes;
	// changed files that load are used from the next connection on, and the
	// current connection is remade with them. It defaults to 5 s.
	TLSReloadInterval time.Duration
	// DrainTimeout is how long Run keeps delivering spooled events after its
	// input was closed. Whatever is left stays in the spool for the next
	// run. It defaults to 5 s.
	DrainTimeout time.Duration
	// Owned are topic filters under which every retained message belongs to
	// this publisher (Home Assistant discovery configs under this box's
	// node id). On each connection it subscribes to them and clears, with an
	// empty retained payload, every retained message there that it was not
	// given in this run: what a camera or zone removed while edge was
	// stopped left behind.
	Owned []string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

var brokerSchemes = map[string]bool{
	"tcp": true, "mqtt": true, "ssl": true, "tls": true, "mqtts": true,
	"mqtt+ssl": true, "tcps": true, "ws": true, "wss": true,
}

// withDefaults validates cfg and fills in the defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Broker != "" {
		cfg.Brokers = append([]string{cfg.Broker}, cfg.Brokers...)
		cfg.Broker = ""
	}
	if len(cfg.Brokers) == 0 {
		return cfg, errors.New("publish: no broker URL (set mqtt.brokers or mqtt.broker, e.g. tcp://127.0.0.1:1883)")
	}
	seen := map[string]bool{}
	for _, b := range cfg.Brokers {
		if err := checkBrokerURL(b); err != nil {
			return cfg, err
		}
		if seen[b] {
			return cfg, fmt.Errorf("publish: broker URL %s is listed twice (list each node once)", redact.URL(b))
		}
		seen[b] = true
	}
	if cfg.QoS > 2 {
		return cfg, fmt.Errorf("publish: QoS %d: use 0, 1 or 2", cfg.QoS)
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = events.DefaultTopicPrefix
	}
	if !events.ValidPrefix(cfg.TopicPrefix) {
		return cfg, fmt.Errorf("publish: topic prefix %q: every level must be 1 to 64 letters, digits, '_' or '-' (no wildcards, no empty levels, no leading or trailing /)", cfg.TopicPrefix)
	}
	for _, f := range cfg.Owned {
		if f == "" || strings.HasPrefix(f, "/") || strings.Contains(f, "//") {
			return cfg, fmt.Errorf("publish: owned topic filter %q: no empty levels", f)
		}
	}
	if cfg.SpoolDir == "" {
		return cfg, errors.New("publish: spool directory is empty (set mqtt.spool_dir)")
	}
	if cfg.ClientID == "" {
		host, _ := os.Hostname()
		cfg.ClientID = "edge-" + host
	}
	if (cfg.TLS.Cert == "") != (cfg.TLS.Key == "") {
		return cfg, errors.New("publish: TLS cert and key go together: set both mqtt.tls.cert and mqtt.tls.key, or neither")
	}
	setDefault(&cfg.SpoolMaxBytes, DefaultSpoolMaxBytes)
	setDefault(&cfg.QueueSize, DefaultQueueSize)
	setDefault(&cfg.PublishTimeout, DefaultPublishTimeout)
	setDefault(&cfg.ConnectRetryInterval, DefaultConnectRetryInterval)
	setDefault(&cfg.ConnectTimeout, DefaultConnectTimeout)
	setDefault(&cfg.MaxReconnectInterval, DefaultMaxReconnectInterval)
	setDefault(&cfg.DrainTimeout, DefaultDrainTimeout)
	setDefault(&cfg.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&cfg.TLSReloadInterval, DefaultTLSReloadInterval)
	setDefault(&cfg.KeepAlive, DefaultKeepAlive)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

func checkBrokerURL(b string) error {
	u, err := url.Parse(b)
	if err != nil {
		// url's error quotes the input, which may hold a password.
		return fmt.Errorf("publish: broker URL %s does not parse (use scheme://host:port)", redact.URL(b))
	}
	if !brokerSchemes[strings.ToLower(u.Scheme)] || u.Host == "" {
		return fmt.Errorf("publish: broker URL %s: want tcp://, mqtt://, ssl://, mqtts://, ws:// or wss:// with a host", redact.URL(b))
	}
	return nil
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// tlsConfig loads the PEM files; nil when none are configured.
func (t TLS) tlsConfig() (*tls.Config, error) {
	if t == (TLS{}) {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("publish: read TLS CA %s: %w (check mqtt.tls.ca)", t.CA, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("publish: TLS CA %s holds no PEM certificate (check mqtt.tls.ca)", t.CA)
		}
		c.RootCAs = pool
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("publish: load TLS client certificate %s and key %s: %w (check mqtt.tls.cert and mqtt.tls.key)", t.Cert, t.Key, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
