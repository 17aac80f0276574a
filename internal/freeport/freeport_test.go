package freeport_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/edgeprivacy/edge/internal/freeport"
)

func TestPortsAreFreeAndDistinct(t *testing.T) {
	ports := freeport.TCPs(t, 5)
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d returned twice in %v", p, ports)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		l.Close()
	}
	p := freeport.UDPPair(t)
	if p%2 != 0 {
		t.Fatalf("UDP pair starts on odd port %d", p)
	}
	for _, q := range []int{p, p + 1} {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", q))
		if err != nil {
			t.Fatalf("UDP port %d is not free: %v", q, err)
		}
		c.Close()
	}
}
