// Package rabbitmqtest starts a real 3-node RabbitMQ cluster (Debian's
// rabbitmq-server 3.10 with the MQTT plugin, durable MQTT sessions on quorum
// queues) on loopback for the heavier tests of `make test-rabbitmq`. Each node
// has its own ports, data directory and log; nodes can be killed with SIGKILL.
package rabbitmqtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/brokertest"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/syncbuf"
)

// startTimeout bounds a node's start and the cluster's forming: an Erlang
// node takes tens of seconds on a small machine.
const startTimeout = 3 * time.Minute

// Cluster is a running RabbitMQ cluster owned by one test.
type Cluster struct {
	t   testing.TB
	dir string
	// Nodes (URLs, Node by URL) are in start order.
	brokertest.Nodes[*Node]
}

// Node is one RabbitMQ node.
type Node struct {
	Name     string // rabbitN@localhost
	MQTTPort int
	dir      string
	env      []string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *syncbuf.Buffer
}

// Option tunes Start.
type Option func(*options)

type options struct{ anonymous bool }

// WithoutAnonymous makes MQTT clients log in as a RabbitMQ user
// (mqtt.allow_anonymous = false), as a fleet broker with ACLs does.
func WithoutAnonymous() Option { return func(o *options) { o.anonymous = false } }

// Start runs n nodes, joins them into one cluster and stops them when the
// test ends. It skips nothing: a missing rabbitmq-server fails the test.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	o := options{anonymous: true}
	for _, opt := range opts {
		opt(&o)
	}
	if _, err := exec.LookPath("rabbitmq-server"); err != nil {
		t.Fatalf("rabbitmqtest: rabbitmq-server not found (make test-rabbitmq installs it): %v", err)
	}
	// Debian's wrapper runs the node as the rabbitmq user when started by
	// root, so the directory must be that user's and reachable by it.
	dir, err := os.MkdirTemp("", "edge-rabbitmq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{t: t, dir: dir}
	t.Cleanup(c.KillAll)
	ports := freeport.TCPs(t, 3*n)
	for i := range n {
		nd := &Node{Name: fmt.Sprintf("edgetest%d@localhost", i+1), MQTTPort: ports[3*i], dir: filepath.Join(dir, fmt.Sprint(i+1))}
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d\nmqtt.listeners.tcp.default = 127.0.0.1:%d\n"+
			"mqtt.allow_anonymous = %t\nmqtt.durable_queue_type = quorum\nloopback_users = none\n", ports[3*i+1], nd.MQTTPort, o.anonymous)
		write(t, filepath.Join(nd.dir, "rabbitmq.conf"), conf)
		write(t, filepath.Join(nd.dir, "enabled_plugins"), "[rabbitmq_mqtt].\n")
		nd.env = append(os.Environ(),
			"RABBITMQ_NODENAME="+nd.Name,
			"RABBITMQ_DIST_PORT="+strconv.Itoa(ports[3*i+2]),
			"RABBITMQ_MNESIA_BASE="+filepath.Join(nd.dir, "mnesia"),
			"RABBITMQ_LOG_BASE="+filepath.Join(nd.dir, "log"),
			"RABBITMQ_CONFIG_FILE="+filepath.Join(nd.dir, "rabbitmq"),
			"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(nd.dir, "enabled_plugins"),
			"RABBITMQ_PID_FILE="+filepath.Join(nd.dir, "pid"),
		)
		c.Nodes = append(c.Nodes, nd)
	}
	chownRabbit(t, dir)
	for _, nd := range c.Nodes {
		nd.start(t)
	}
	for _, nd := range c.Nodes {
		nd.waitMQTT(t)
	}
	for _, nd := range c.Nodes[1:] {
		for _, args := range [][]string{{"stop_app"}, {"join_cluster", c.Nodes[0].Name}, {"start_app"}} {
			c.ctl(nd, args...)
		}
		nd.waitMQTT(t)
	}
	return c
}

// URL is the node's MQTT URL.
func (nd *Node) URL() string { return brokertest.MQTTURL(nd.MQTTPort) }

// Kill ends the node's Erlang VM with SIGKILL.
func (nd *Node) Kill() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if b, err := os.ReadFile(filepath.Join(nd.dir, "pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if nd.cmd != nil {
		_ = nd.cmd.Process.Kill()
		_ = nd.cmd.Wait()
		nd.cmd = nil
	}
}

// KillAll kills every node.
func (c *Cluster) KillAll() {
	for _, nd := range c.Nodes {
		nd.Kill()
	}
}

// Logs is every node's output, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, nd := range c.Nodes {
		nd.mu.Lock()
		if nd.out != nil {
			fmt.Fprintf(&b, "--- %s (%s)\n%s\n", nd.Name, nd.URL(), nd.out.String())
		}
		nd.mu.Unlock()
	}
	return b.String()
}

func (nd *Node) start(t testing.TB) {
	t.Helper()
	nd.mu.Lock()
	defer nd.mu.Unlock()
	out := &syncbuf.Buffer{}
	cmd := exec.Command("rabbitmq-server")
	cmd.Env, cmd.Stdout, cmd.Stderr = nd.env, out, out
	// Its own process group, so that a kill reaches the VM the wrapper started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("rabbitmqtest: start %s: %v", nd.Name, err)
	}
	nd.cmd, nd.out = cmd, out
}

func (nd *Node) waitMQTT(t testing.TB) {
	t.Helper()
	// No exit to watch: the wrapper may hand the node to another process.
	if err := brokertest.WaitAccepting(brokertest.Addr(nd.MQTTPort), startTimeout, nil); err != nil {
		t.Fatalf("rabbitmqtest: %s: MQTT %v:\n%s", nd.Name, err, nd.out.String())
	}
}

// Env is the environment that makes rabbitmqctl (and scripts that call it)
// talk to this node.
func (nd *Node) Env() []string { return slices.Clone(nd.env) }

func (c *Cluster) ctl(nd *Node, args ...string) {
	c.t.Helper()
	cmd := exec.Command("rabbitmqctl", append([]string{"-n", nd.Name}, args...)...)
	cmd.Env = nd.env
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("rabbitmqtest: rabbitmqctl %v on %s: %v\n%s", args, nd.Name, err, out)
	}
}

func write(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chownRabbit gives dir to the rabbitmq user when running as root.
func chownRabbit(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("rabbitmq")
	if err != nil {
		t.Fatalf("rabbitmqtest: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
	if err != nil {
		t.Fatalf("rabbitmqtest: %v", err)
	}
}
