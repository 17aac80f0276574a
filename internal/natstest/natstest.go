// Package natstest starts a real nats-server cluster (Debian's nats-server
// 2.9) on loopback for tests: every node with JetStream (its own store
// directory) and an MQTT listener, so that MQTT clients see one clustered
// broker with several nodes, as a fleet does in production. Nodes can be
// killed (SIGKILL, as a power cut) and started again on the same ports and
// store.
package natstest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/brokertest"
	"github.com/edgeprivacy/edge/internal/freeport"
)

// readyTimeout bounds the wait for a node (or the whole cluster) to be
// healthy: JetStream needs its Raft meta group to elect a leader.
const readyTimeout = 90 * time.Second

// Cluster is a running set of nodes owned by one test.
type Cluster struct {
	t        testing.TB
	bin      string
	includes []string // files every node's configuration includes
	// Nodes (URLs, Node by URL) are in start order.
	brokertest.Nodes[*Node]
}

// Option tunes Start.
type Option func(*Cluster)

// WithInclude makes every node's configuration include the file at path
// (copied beside it: nats-server resolves includes relative to the
// configuration), e.g. an authorization block. Variables in it ($NAME) come
// from the environment.
func WithInclude(path string) Option {
	return func(c *Cluster) { c.includes = append(c.includes, path) }
}

// Node is one nats-server process.
type Node struct {
	Name                                   string
	ClientPort, ClusterPort, MQTTPort, Mon int
	conf, store                            string

	proc brokertest.Process
}

// Start runs an n-node cluster (use 3: Raft needs a majority to survive
// the loss of one) and stops it when the test ends. It fails the test when
// nats-server is not installed.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatalf("natstest: nats-server not found: run scripts/deps.sh (apt-get install nats-server): %v", err)
	}
	c := &Cluster{t: t, bin: bin}
	for _, o := range opts {
		o(c)
	}
	dir := t.TempDir()
	var extra string
	for _, inc := range c.includes {
		b, err := os.ReadFile(inc)
		if err != nil {
			t.Fatalf("natstest: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(inc)), b, 0o600); err != nil {
			t.Fatalf("natstest: %v", err)
		}
		extra += fmt.Sprintf("include %q\n", filepath.Base(inc))
	}
	ports := freeport.TCPs(t, 4*n)
	var routes []string
	for i := range n {
		nd := &Node{
			Name:       fmt.Sprintf("n%d", i+1),
			ClientPort: ports[4*i], ClusterPort: ports[4*i+1], MQTTPort: ports[4*i+2], Mon: ports[4*i+3],
		}
		nd.store = filepath.Join(dir, nd.Name)
		nd.conf = filepath.Join(dir, nd.Name+".conf")
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", nd.ClusterPort))
		c.Nodes = append(c.Nodes, nd)
	}
	for _, nd := range c.Nodes {
		body := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
jetstream { store_dir: %q, max_memory_store: 64MB, max_file_store: 1GB }
cluster { name: edgetest, listen: 127.0.0.1:%d, routes: [%s] }
mqtt { listen: 127.0.0.1:%d }
%s`, nd.Name, nd.ClientPort, nd.Mon, nd.store, nd.ClusterPort, strings.Join(routes, ", "), nd.MQTTPort, extra)
		if err := os.WriteFile(nd.conf, []byte(body), 0o600); err != nil {
			t.Fatalf("natstest: %v", err)
		}
	}
	t.Cleanup(c.KillAll)
	for _, nd := range c.Nodes {
		if err := nd.start(bin); err != nil {
			t.Fatalf("natstest: %v", err)
		}
	}
	c.WaitHealthy()
	return c
}

// URL is the node's MQTT URL, tcp://127.0.0.1:PORT.
func (nd *Node) URL() string { return brokertest.MQTTURL(nd.MQTTPort) }

// Kill ends the node with SIGKILL, as a crash or power cut would: no
// goodbye to its clients or peers.
func (nd *Node) Kill() { nd.proc.Kill() }

// Restart starts a killed node again with its ports and store.
func (c *Cluster) Restart(nd *Node) {
	c.t.Helper()
	if err := nd.start(c.bin); err != nil {
		c.t.Fatalf("natstest: restart %s: %v", nd.Name, err)
	}
}

// KillAll kills every node.
func (c *Cluster) KillAll() {
	for _, nd := range c.Nodes {
		nd.Kill()
	}
}

// RestartAll starts every killed node and waits until the cluster is healthy.
func (c *Cluster) RestartAll() {
	c.t.Helper()
	for _, nd := range c.Nodes {
		if nd.proc.Running() {
			continue
		}
		c.Restart(nd)
	}
	c.WaitHealthy()
}

// WaitHealthy waits until every running node reports healthy, JetStream
// included.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for _, nd := range c.Nodes {
		if !nd.proc.Running() {
			continue
		}
		for !nd.healthy() {
			if time.Now().After(deadline) {
				c.t.Fatalf("natstest: %s not healthy within %v:\n%s", nd.Name, readyTimeout, nd.Log())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Log is what the node's latest process wrote.
func (nd *Node) Log() string { return nd.proc.Log() }

// Logs is every node's log, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, nd := range c.Nodes {
		fmt.Fprintf(&b, "--- %s (%s)\n%s\n", nd.Name, nd.URL(), nd.Log())
	}
	return b.String()
}

func (nd *Node) healthy() bool {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", nd.Mon))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (nd *Node) start(bin string) error {
	nd.proc.Name = nd.Name
	return nd.proc.Start(func() *exec.Cmd { return exec.Command(bin, "-c", nd.conf) }, brokertest.Addr(nd.MQTTPort), readyTimeout)
}
