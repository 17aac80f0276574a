// Package natstest starts a real nats-server cluster (Debian's nats-server
// 2.9) on loopback for tests: every node with JetStream (its own store
// directory) and an MQTT listener, so that MQTT clients see one clustered
// broker with several nodes, as a fleet does in production. Nodes can be
// killed (SIGKILL, as a power cut) and started again on the same ports and
// store.
package natstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/brokertest"
	"github.com/edgeprivacy/edge/internal/freeport"
)

// readyTimeout bounds the wait for a node (or the whole cluster) to be
// ready: JetStream needs its Raft meta group, and after a restart every
// stream and consumer group, to elect a leader (4-9 s election timers each,
// longer on a loaded machine).
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
// the loss of one) and stops it when the test ends. When nats-server is not
// installed it skips the test, saying so, except under CI (the environment
// variable CI set, as CI services do), where it fails it: `make test`
// installs nats-server (scripts/deps.sh), so there a missing one is a
// broken setup, not a test to leave out.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("natstest: nats-server not found and CI is set, so this test must run: run scripts/deps.sh (apt-get install nats-server): %v", err)
		}
		t.Skipf("natstest: SKIPPED, nats-server not installed (scripts/deps.sh installs it; with CI set this fails instead): %v", err)
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
	if err := nd.restart(c.bin); err != nil {
		c.t.Fatalf("natstest: restart %v", err)
	}
}

// KillAll kills every node.
func (c *Cluster) KillAll() {
	for _, nd := range c.Nodes {
		nd.Kill()
	}
}

// RestartAll starts every killed node and waits until the cluster is
// ready (WaitHealthy). The nodes start together: none can elect a
// JetStream meta leader alone, and on a loaded machine a start that waited
// for the one before it only delayed the quorum.
func (c *Cluster) RestartAll() {
	c.t.Helper()
	var down []*Node
	for _, nd := range c.Nodes {
		if !nd.proc.Running() {
			down = append(down, nd)
		}
	}
	errs := make([]error, len(down))
	var wg sync.WaitGroup
	for i, nd := range down {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = nd.restart(c.bin)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.t.Fatalf("natstest: restart %v", err)
	}
	c.WaitHealthy()
}

// WaitHealthy waits until every running node is ready (see ready), for at
// most readyTimeout. It fails the test at once when a node's process has
// exited, and at the deadline names each node that is not ready, what it
// was waiting for and the end of its log.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	began := time.Now()
	var waiting []*Node
	for _, nd := range c.Nodes {
		if nd.proc.Running() {
			waiting = append(waiting, nd)
		}
	}
	why := map[*Node]*history{}
	for len(waiting) > 0 {
		// All nodes each round, not one after the other: how long each
		// took says which one held the cluster up.
		waiting = slices.DeleteFunc(waiting, func(nd *Node) bool {
			if nd.proc.Exited() {
				c.t.Fatalf("natstest: %s exited while waiting for it to be ready (%v):\n%s", nd.Name, time.Since(began).Round(time.Millisecond), logTail(nd.Log(), 40))
			}
			err := nd.ready()
			if err == nil {
				c.t.Logf("natstest: %s ready after %v", nd.Name, time.Since(began).Round(time.Millisecond))
				return true
			}
			if why[nd] == nil {
				why[nd] = &history{since: began}
			}
			why[nd].add(err.Error())
			return false
		})
		if len(waiting) == 0 {
			break
		}
		if time.Since(began) > readyTimeout {
			var b strings.Builder
			for _, nd := range waiting {
				fmt.Fprintf(&b, "--- %s (MQTT %s, monitor :%d) not ready after %v; waited for %s; what it answered:\n%s--- %s log, last lines:\n%s\n",
					nd.Name, nd.URL(), nd.Mon, readyTimeout, readyMeans, why[nd], nd.Name, logTail(nd.Log(), 40))
			}
			c.t.Fatalf("natstest: cluster not ready within %v:\n%s", readyTimeout, b.String())
		}
		time.Sleep(250 * time.Millisecond)
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

// readyMeans says in failure messages what ready waits for.
const readyMeans = "a JetStream meta leader this node is current with (/healthz?js-server-only=true) " +
	"and a leader for every stream and consumer it holds a replica of (/jsz)"

// ready is nil when the node can serve what the tests ask of the cluster:
// it knows the JetStream meta leader and is current with it, and every
// stream and consumer it holds a replica of has a leader, so MQTT sessions
// can be looked up and QoS 1 messages stored and delivered through it.
//
// It does not ask what nats-server's full /healthz asks on top: that at the
// moment of the poll every one of those replicas is current (has applied
// all it committed and heard from its leader within 2 s). With a client
// publishing and the machine's CPU taken by other tests, heartbeats come
// late and appends are in flight, so that condition comes and goes per
// replica and all of them together can stay false for long (measured:
// docs/fleet.md), although the cluster serves every client. The tests
// prove delivery themselves, with their own bounded waits.
func (nd *Node) ready() error {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz?js-server-only=true", nd.Mon))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz?js-server-only=true: %d %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	return nd.leaderless()
}

// leaderless is an error naming the first stream or consumer the node holds
// a replica of that has no leader, as the node sees it.
func (nd *Node) leaderless() error {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz?accounts=true&streams=true&consumers=true", nd.Mon))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	type group struct {
		Leader string `json:"leader"`
	}
	var j struct {
		Accounts []struct {
			Name    string `json:"name"`
			Streams []struct {
				Name      string `json:"name"`
				Cluster   group  `json:"cluster"`
				Consumers []struct {
					Name    string `json:"name"`
					Cluster group  `json:"cluster"`
				} `json:"consumer_detail"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return fmt.Errorf("/jsz: %w", err)
	}
	for _, a := range j.Accounts {
		for _, st := range a.Streams {
			if st.Cluster.Leader == "" {
				return fmt.Errorf("stream '%s > %s' has no leader", a.Name, st.Name)
			}
			for _, co := range st.Consumers {
				if co.Cluster.Leader == "" {
					return fmt.Errorf("consumer '%s > %s > %s' has no leader", a.Name, st.Name, co.Name)
				}
			}
		}
	}
	return nil
}

// history is what a node answered while it was waited for: each change,
// with the time since the wait began.
type history struct {
	since time.Time
	lines []string
	last  string
	same  int
}

func (h *history) add(s string) {
	if s == h.last {
		h.same++
		return
	}
	if h.same > 0 {
		h.lines = append(h.lines, fmt.Sprintf("    (the same %d more times)", h.same))
	}
	h.last, h.same = s, 0
	h.lines = append(h.lines, fmt.Sprintf("  +%v %s", time.Since(h.since).Round(10*time.Millisecond), s))
	if len(h.lines) > 30 { // the first and the latest answers are what tell
		h.lines = append(h.lines[:5], h.lines[len(h.lines)-25:]...)
	}
}

func (h *history) String() string {
	if h == nil {
		return "  (nothing: never asked)\n"
	}
	out := strings.Join(h.lines, "\n") + "\n"
	if h.same > 0 {
		out += fmt.Sprintf("    (the same %d more times)\n", h.same)
	}
	return out
}

// logTail is the last n lines of a node's log, without nats-server's
// warning for each failed health poll (ours, every 250 ms): those would
// fill the tail and are in the history of answers already.
func logTail(log string, n int) string {
	var kept []string
	dropped := 0
	for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		if strings.Contains(l, "Healthcheck failed") {
			dropped++
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	out := strings.Join(kept, "\n")
	if dropped > 0 {
		out += fmt.Sprintf("\n(%d \"Healthcheck failed\" lines left out)", dropped)
	}
	return out
}

// restart starts the killed node again once its ports are free.
func (nd *Node) restart(bin string) error {
	var addrs []string
	for _, p := range []int{nd.ClientPort, nd.ClusterPort, nd.MQTTPort, nd.Mon} {
		addrs = append(addrs, brokertest.Addr(p))
	}
	if err := brokertest.WaitFree(addrs, 10*time.Second); err != nil {
		return fmt.Errorf("%s: its ports: %w", nd.Name, err)
	}
	if err := nd.start(bin); err != nil {
		return fmt.Errorf("%s: %w", nd.Name, err)
	}
	return nil
}

func (nd *Node) start(bin string) error {
	nd.proc.Name = nd.Name
	return nd.proc.Start(func() *exec.Cmd { return exec.Command(bin, "-c", nd.conf) }, brokertest.Addr(nd.MQTTPort), readyTimeout)
}
