// Package brokertest holds what the test packages that run real brokers
// (mosquittotest, natstest, rabbitmqtest) share: starting a broker process
// and waiting until it accepts connections, killing it, and the MQTT URLs of
// a cluster's nodes.
package brokertest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/internal/syncbuf"
)

// Process is a broker process that can be killed and started again, one
// at a time, on the same command line. It is safe for concurrent use.
type Process struct {
	// Name says which broker in errors.
	Name string

	mu     sync.Mutex
	cmd    *exec.Cmd // nil while not running
	exited chan struct{}
	out    *syncbuf.Buffer // the latest process's output, kept after it ended
}

// Start starts the process that newCmd returns with its output captured and
// waits until addr accepts TCP connections. It fails early when the process
// exits first, and after timeout (killing it); the error has its output.
func (p *Process) Start(newCmd func() *exec.Cmd, addr string, timeout time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s already running", p.Name)
	}
	cmd, out, exited := newCmd(), &syncbuf.Buffer{}, make(chan struct{})
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.out = out
	if err := WaitAccepting(addr, timeout, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s %w: %s", p.Name, err, out.String())
	}
	p.cmd, p.exited = cmd, exited
	return nil
}

// Kill ends the process with SIGKILL, as a crash or power cut would (no
// goodbye to clients or peers), and waits for it to exit.
func (p *Process) Kill() { p.Stop(0) }

// Stop asks the process to end (SIGTERM), kills it after grace (at once
// when grace is 0) and waits for it to exit. Clients see their connection
// drop.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	if grace > 0 {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
		}
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Running says whether the process was started and not stopped since.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Exited says whether the process ended by itself since it was started (a
// crash, or a port it could not bind after the one Start waited for):
// Running stays true until Kill or Stop.
func (p *Process) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Log is what the latest process wrote, for failure messages.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// WaitAccepting waits until addr accepts a TCP connection, for at most
// timeout; it gives up at once when exited (which may be nil) is closed.
func WaitAccepting(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before accepting on %s", addr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("did not accept on %s within %v", addr, timeout)
		}
	}
}

// WaitFree waits until every one of addrs can be listened on again, for at
// most timeout, e.g. before a killed broker is started on its old ports. A
// dead process's listeners are closed by the time it is reaped, but while
// it was down another process may have been given one of its ports (as the
// local port of an outgoing connection): the error names the port, instead
// of a broker that exits when it cannot bind it.
func WaitFree(addrs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range addrs {
		for {
			l, err := net.Listen("tcp", addr)
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still in use after %v: %w", addr, timeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// Addr is 127.0.0.1:port.
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// MQTTURL is the plain MQTT URL of a broker on 127.0.0.1:port.
func MQTTURL(port int) string { return "tcp://" + Addr(port) }

// Node is a broker node with an MQTT URL.
type Node interface{ URL() string }

// Nodes are the nodes of a cluster, in order. A cluster type embeds them.
type Nodes[N Node] []N

// URLs are the MQTT URLs of every node, in node order.
func (ns Nodes[N]) URLs() []string {
	out := make([]string, 0, len(ns))
	for _, nd := range ns {
		out = append(out, nd.URL())
	}
	return out
}

// Node returns the node whose MQTT URL is url, or the zero N (nil for a
// pointer).
func (ns Nodes[N]) Node(url string) N {
	for _, nd := range ns {
		if nd.URL() == url {
			return nd
		}
	}
	var zero N
	return zero
}
