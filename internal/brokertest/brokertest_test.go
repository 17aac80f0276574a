package brokertest_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/brokertest"
	"github.com/edgeprivacy/edge/internal/freeport"
)

// listenEnv makes the test binary a fake broker: it listens on the port
// the variable names, says "up" and waits to be ended (or, with crashEnv
// set, exits by itself a moment later, as a broker that crashes).
const (
	listenEnv = "BROKERTEST_LISTEN"
	crashEnv  = "BROKERTEST_CRASH"
)

func TestMain(m *testing.M) {
	if port := os.Getenv(listenEnv); port != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		defer ln.Close()
		fmt.Println("up")
		if os.Getenv(crashEnv) != "" {
			time.Sleep(300 * time.Millisecond)
			fmt.Println("crashed")
			os.Exit(2)
		}
		time.Sleep(time.Minute)
		return
	}
	os.Exit(m.Run())
}

type node struct{ port int }

func (n *node) URL() string { return brokertest.MQTTURL(n.port) }

func TestURLsAndFind(t *testing.T) {
	nodes := brokertest.Nodes[*node]{{1883}, {1884}}
	urls := nodes.URLs()
	if strings.Join(urls, " ") != "tcp://127.0.0.1:1883 tcp://127.0.0.1:1884" {
		t.Fatalf("URLs = %q", urls)
	}
	if nodes.Node(urls[1]) != nodes[1] || nodes.Node("tcp://127.0.0.1:1") != nil {
		t.Fatal("Find picked the wrong node")
	}
}

func TestWaitAccepting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := brokertest.WaitAccepting(ln.Addr().String(), time.Second, nil); err != nil {
		t.Fatal(err)
	}
	closedPort := brokertest.Addr(freeport.TCP(t))
	start := time.Now()
	if err := brokertest.WaitAccepting(closedPort, 300*time.Millisecond, nil); err == nil {
		t.Fatal("a port nobody listens on was accepted")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("WaitAccepting overran its timeout")
	}
}

// TestStartExited: a process that exits without listening fails Start at
// once with its output, not after the timeout.
func TestStartExited(t *testing.T) {
	start := time.Now()
	p := &brokertest.Process{Name: "fake"}
	err := p.Start(func() *exec.Cmd { return exec.Command("sh", "-c", "echo no config; exit 3") }, brokertest.Addr(freeport.TCP(t)), time.Minute)
	if err == nil || !strings.Contains(err.Error(), "fake exited before accepting") || !strings.Contains(err.Error(), "no config") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatal("Start waited for the timeout although the process had exited")
	}
	if p.Running() || !strings.Contains(p.Log(), "no config") {
		t.Fatalf("after a failed start: running %v, log %q", p.Running(), p.Log())
	}
}

// TestStartStop: a listening process is running until Stop, Kill after Stop
// does nothing, and it can be started again.
func TestStartStop(t *testing.T) {
	port := freeport.TCP(t)
	p := &brokertest.Process{Name: "fake"}
	for range 2 {
		if err := p.Start(func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), listenEnv+"="+strconv.Itoa(port))
			return cmd
		}, brokertest.Addr(port), 30*time.Second); err != nil {
			t.Fatal(err)
		}
		if !p.Running() {
			t.Fatal("not running after Start")
		}
		p.Stop(5 * time.Second)
		if p.Running() {
			t.Fatal("running after Stop")
		}
		p.Kill()
	}
	if !strings.Contains(p.Log(), "up") {
		t.Fatalf("log %q", p.Log())
	}
}

// TestExited: a process that ends by itself after Start is still Running
// (nobody stopped it) but Exited, so a caller waiting on it can stop
// waiting; after Kill it is neither.
func TestExited(t *testing.T) {
	port := freeport.TCP(t)
	p := &brokertest.Process{Name: "fake"}
	if err := p.Start(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), listenEnv+"="+strconv.Itoa(port), crashEnv+"=1")
		return cmd
	}, brokertest.Addr(port), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !p.Exited() {
		if time.Now().After(deadline) {
			t.Fatalf("Exited still false 20 s after the process ended; log %q", p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !p.Running() || !strings.Contains(p.Log(), "crashed") {
		t.Fatalf("running %v, log %q", p.Running(), p.Log())
	}
	p.Kill()
	if p.Running() || p.Exited() {
		t.Fatalf("after Kill: running %v, exited %v", p.Running(), p.Exited())
	}
}

// TestWaitFree: a port something listens on is reported by address after
// the timeout, and WaitFree returns once it is closed.
func TestWaitFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	free := brokertest.Addr(freeport.TCP(t))
	err = brokertest.WaitFree([]string{free, addr}, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), addr) {
		ln.Close()
		t.Fatalf("WaitFree on a port in use: %v", err)
	}
	time.AfterFunc(200*time.Millisecond, func() { ln.Close() })
	if err := brokertest.WaitFree([]string{free, addr}, 10*time.Second); err != nil {
		t.Fatalf("WaitFree after the listener closed: %v", err)
	}
}
