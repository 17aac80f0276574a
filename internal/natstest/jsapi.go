package natstest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// jsRequest sends one JetStream API request over the NATS client protocol
// (text lines; no client library needed) to the node and returns the reply.
func (nd *Node) jsRequest(subject string, body []byte) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", nd.ClientPort), 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		return nil, fmt.Errorf("read INFO: %w", err)
	}
	inbox := "_INBOX.natstest"
	if _, err := fmt.Fprintf(conn, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB %s 1\r\nPUB %s %s %d\r\n%s\r\n",
		inbox, subject, inbox, len(body), body); err != nil {
		return nil, err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("wait for the reply to %s: %w", subject, err)
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "PING":
			if _, err := conn.Write([]byte("PONG\r\n")); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "-ERR"):
			return nil, fmt.Errorf("%s: %s", subject, line)
		case strings.HasPrefix(line, "MSG "):
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				return nil, fmt.Errorf("bad MSG line %q", line)
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, err
			}
			return buf[:n], nil
		}
	}
}

// AddStream creates the JetStream stream that the JSON file describes (the
// format of `nats stream add --config`), e.g. docs/nats/mqtt-msgs-stream.json,
// which gives nats-server's stream for MQTT QoS 1 messages limits retention
// instead of interest retention. nats-server 2.9 uses an MQTT stream it
// finds, so call it right after Start, before any MQTT client connects.
func (c *Cluster) AddStream(configFile string) {
	c.t.Helper()
	body, err := os.ReadFile(configFile)
	if err != nil {
		c.t.Fatalf("natstest: %v", err)
	}
	var cfg struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil || cfg.Name == "" {
		c.t.Fatalf("natstest: %s: not a stream configuration with a name (%v)", configFile, err)
	}
	var last error
	// The meta leader may still be settling: a few tries.
	for range 20 {
		reply, err := c.Nodes[0].jsRequest("$JS.API.STREAM.CREATE."+cfg.Name, body)
		if err == nil {
			var resp struct {
				Error *struct {
					Description string `json:"description"`
				} `json:"error"`
			}
			if err = json.Unmarshal(reply, &resp); err == nil && resp.Error != nil {
				err = errors.New(resp.Error.Description)
			}
			if err == nil {
				return
			}
		}
		last = err
		time.Sleep(500 * time.Millisecond)
	}
	c.t.Fatalf("natstest: create stream %s from %s: %v", cfg.Name, configFile, last)
}

// StreamLeader is the name of the node that leads the JetStream stream
// (e.g. "$MQTT_sess", which every MQTT CONNECT with a persistent session
// reads), as the running nodes report it; "" while there is none.
func (c *Cluster) StreamLeader(stream string) string {
	for _, nd := range c.Nodes {
		if !nd.proc.Running() {
			continue
		}
		if l := nd.streamLeader(stream); l != "" {
			return l
		}
	}
	return ""
}

func (nd *Node) streamLeader(stream string) string {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/jsz?accounts=true&streams=true", nd.Mon))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var j struct {
		Accounts []struct {
			Streams []struct {
				Name    string `json:"name"`
				Cluster struct {
					Leader string `json:"leader"`
				} `json:"cluster"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if json.NewDecoder(resp.Body).Decode(&j) != nil {
		return ""
	}
	for _, a := range j.Accounts {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.Cluster.Leader
			}
		}
	}
	return ""
}

// NodeNamed returns the node called name, or nil.
func (c *Cluster) NodeNamed(name string) *Node {
	for _, nd := range c.Nodes {
		if nd.Name == name {
			return nd
		}
	}
	return nil
}
