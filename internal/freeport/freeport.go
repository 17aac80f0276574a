// Package freeport finds loopback ports nothing listens on, for tests that
// start real servers (brokers, RTSP servers, edge itself) on 127.0.0.1.
package freeport

import (
	"fmt"
	"net"
	"testing"
)

// TCP returns a loopback TCP port that was free a moment ago.
func TCP(t testing.TB) int {
	t.Helper()
	return TCPs(t, 1)[0]
}

// TCPs returns n distinct loopback TCP ports: all are held open together
// while they are picked, so none is returned twice.
func TCPs(t testing.TB, n int) []int {
	t.Helper()
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("freeport: find a free TCP port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// UDPPair returns an even loopback UDP port whose successor is free too, as
// RTSP wants for RTP and RTCP.
func UDPPair(t testing.TB) int {
	t.Helper()
	for range 100 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		if port%2 != 0 || port >= 65535 {
			continue
		}
		a, err1 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		b, err2 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return port
		}
	}
	t.Fatal("freeport: no free even/odd UDP port pair on 127.0.0.1")
	return 0
}
