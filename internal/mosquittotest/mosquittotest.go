// Package mosquittotest starts a real Debian mosquitto broker on a free
// loopback port for tests, and can stop and restart it on the same port to
// simulate a broker outage.
package mosquittotest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/brokertest"
	"github.com/edgeprivacy/edge/internal/freeport"
)

// candidates are where Debian and other distributions install the broker;
// PATH is searched first.
var candidates = []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"}

// startTimeout bounds how long Start and Restart wait for the port to accept.
const startTimeout = 10 * time.Second

// Option tunes Start.
type Option func(*Mosquitto)

// WithTLS makes the listener speak TLS with the given PEM files; with
// requireClientCert the broker also demands a client certificate signed by
// caFile. URL then returns ssl://.
func WithTLS(caFile, certFile, keyFile string, requireClientCert bool) Option {
	return func(m *Mosquitto) {
		m.tls = fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %t\n", caFile, certFile, keyFile, requireClientCert)
	}
}

// WithConfig appends lines to the broker's configuration, e.g. a
// password_file and an acl_file.
func WithConfig(lines string) Option {
	return func(m *Mosquitto) { m.extra += lines + "\n" }
}

// Mosquitto is a broker process owned by one test.
type Mosquitto struct {
	t    testing.TB
	bin  string
	conf string
	port int
	tls  string // listener lines for TLS; empty for plain TCP
	// extra is appended to the configuration.
	extra string

	proc brokertest.Process
}

// Start runs mosquitto on a free 127.0.0.1 port with anonymous access and no
// persistence, and stops it when the test ends. It fails the test when
// mosquitto is not installed: the tests need a real broker.
func Start(t testing.TB, opts ...Option) *Mosquitto {
	t.Helper()
	return startWith(t, "persistence false\n", opts)
}

// StartPersistent is Start with persistence on: on Stop the broker saves its
// sessions (persistent subscriptions and the QoS 1 messages queued for them)
// to a temporary directory and loads them again on Restart, as a production
// broker does. Outage tests use it so that a subscriber with a persistent
// session misses nothing while the broker is down.
func StartPersistent(t testing.TB, opts ...Option) *Mosquitto {
	t.Helper()
	dir := t.TempDir()
	return startWith(t, fmt.Sprintf("persistence true\npersistence_location %s/\nautosave_interval 1\n", dir), opts)
}

func startWith(t testing.TB, persistence string, opts []Option) *Mosquitto {
	t.Helper()
	bin, err := find()
	if err != nil {
		t.Fatalf("mosquittotest: %v: run scripts/deps.sh (apt-get install mosquitto)", err)
	}
	m := &Mosquitto{t: t, bin: bin, proc: brokertest.Process{Name: "mosquitto"}}
	for _, o := range opts {
		o(m)
	}
	user := ""
	if os.Geteuid() == 0 {
		// As root, mosquitto drops to the "mosquitto" user, which cannot
		// read the certificates or write the persistence file in the
		// test's private temporary directory.
		user = "user root\n"
	}
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	m.conf = conf
	// A free port can be taken between our probe and mosquitto's bind; try
	// a few.
	for attempt := 0; ; attempt++ {
		m.port = freeport.TCP(t)
		body := fmt.Sprintf("%slistener %d 127.0.0.1\n%sallow_anonymous true\n%slog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n%s", user, m.port, m.tls, persistence, m.extra)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatalf("mosquittotest: write config: %v", err)
		}
		err := m.start()
		if err == nil {
			break
		}
		if attempt == 2 {
			t.Fatalf("mosquittotest: %v", err)
		}
	}
	t.Cleanup(m.kill)
	return m
}

func find() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("mosquitto not found in PATH or " + fmt.Sprint(candidates))
}

// start launches the process and waits until the port accepts connections.
func (m *Mosquitto) start() error {
	return m.proc.Start(func() *exec.Cmd { return exec.Command(m.bin, "-c", m.conf) }, m.addr(), startTimeout)
}

// Stop terminates the broker (SIGTERM, then SIGKILL after 5 s) and waits for
// it to exit. Connected clients see their connection drop.
func (m *Mosquitto) Stop() {
	m.t.Helper()
	m.proc.Stop(5 * time.Second)
}

// Restart starts the broker again on the same port after Stop.
func (m *Mosquitto) Restart() {
	m.t.Helper()
	// The old socket may linger briefly; mosquitto sets SO_REUSEADDR, so a
	// bind failure here is a real problem, but give it one retry.
	err := m.start()
	if err != nil {
		time.Sleep(500 * time.Millisecond)
		err = m.start()
	}
	if err != nil {
		m.t.Fatalf("mosquittotest: restart on port %d: %v", m.port, err)
	}
}

func (m *Mosquitto) kill() { m.proc.Kill() }

func (m *Mosquitto) addr() string { return brokertest.Addr(m.port) }

// Addr is "127.0.0.1:PORT".
func (m *Mosquitto) Addr() string { return m.addr() }

// URL is "tcp://127.0.0.1:PORT", or "ssl://127.0.0.1:PORT" with WithTLS.
func (m *Mosquitto) URL() string {
	if m.tls != "" {
		return "ssl://" + m.addr()
	}
	return "tcp://" + m.addr()
}

// Log returns what the current broker process has written so far, for
// failure messages.
func (m *Mosquitto) Log() string { return m.proc.Log() }
