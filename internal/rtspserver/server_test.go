package rtspserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/rtspserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A 160x120 H.264 SPS and PPS: enough for a DESCRIBE to answer an SDP.
var (
	sps = []byte{0x67, 0x64, 0x00, 0x0c, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0x99, 0x60}
	pps = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
)

// serve starts a Server with one stream, "lobby", and credentials c.
func serve(t *testing.T, c rtspserver.Credentials) *rtspserver.Server {
	t.Helper()
	var stream *gortsplib.ServerStream
	s, err := rtspserver.New(rtspserver.Config{Name: "test", Addr: "127.0.0.1:0", Auth: c,
		Lookup: func(path string) (*gortsplib.ServerStream, error) {
			if path != "lobby" {
				return nil, errors.New("unknown")
			}
			return stream, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	stream = &gortsplib.ServerStream{Server: s.Inner(), Desc: &description.Session{Medias: []*description.Media{{
		Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}},
	}}}}
	if err := stream.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stream.Close(); s.Close() })
	return s
}

// describe asks for url's SDP with gortsplib's client, which answers a
// Digest challenge.
func describe(t *testing.T, url string) error {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, ReadTimeout: 5 * time.Second}
	if err := c.Start2(); err != nil {
		return err
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	return err
}

// rawDescribe sends one DESCRIBE with the given Authorization header over
// its own TCP connection and returns the status code.
func rawDescribe(t *testing.T, addr, authz string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "DESCRIBE rtsp://" + addr + "/lobby RTSP/1.0\r\nCSeq: 1\r\n"
	if authz != "" {
		req += "Authorization: " + authz + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var code int
	if _, err := fmt.Sscanf(line, "RTSP/1.0 %d", &code); err != nil {
		t.Fatalf("status line %q: %v", line, err)
	}
	return code
}

func TestAuthOverLoopback(t *testing.T) {
	s := serve(t, creds)
	addr := s.Addr()
	t.Run("gortsplib client (digest)", func(t *testing.T) {
		for _, c := range []struct {
			name, userinfo string
			wantCode       string // "" for success
		}{
			{"no credentials", "", "401"},
			{"wrong user", "mallory:s3cret@", "401"},
			{"wrong password", "viewer:guess@", "401"},
			{"empty password", "viewer:@", "401"},
			{"right credentials", "viewer:s3cret@", ""},
			{"right credentials, unknown path", "viewer:s3cret@", "404"},
		} {
			t.Run(c.name, func(t *testing.T) {
				path := "/lobby"
				if strings.Contains(c.name, "unknown") {
					path = "/nope"
				}
				err := describe(t, "rtsp://"+c.userinfo+addr+path)
				switch {
				case c.wantCode == "" && err != nil:
					t.Fatalf("describe: %v", err)
				case c.wantCode != "" && (err == nil || !strings.Contains(err.Error(), c.wantCode)):
					t.Fatalf("describe: err %v, want %s", err, c.wantCode)
				}
			})
		}
	})
	t.Run("basic", func(t *testing.T) {
		for _, c := range []struct {
			name, authz string
			want        int
		}{
			{"right", basic("viewer", "s3cret"), 200},
			{"wrong user", basic("mallory", "s3cret"), 401},
			{"wrong password", basic("viewer", "guess"), 401},
			{"empty password", basic("viewer", ""), 401},
			{"none", "", 401},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := rawDescribe(t, addr, c.authz); got != c.want {
					t.Errorf("status %d, want %d", got, c.want)
				}
			})
		}
	})
}

func TestNoAuth(t *testing.T) {
	s := serve(t, rtspserver.Credentials{})
	if err := describe(t, "rtsp://"+s.Addr()+"/lobby"); err != nil {
		t.Fatalf("describe without auth configured: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	lookup := func(string) (*gortsplib.ServerStream, error) { return nil, nil }
	for _, c := range []struct {
		name string
		cfg  rtspserver.Config
		want string
	}{
		{"empty password", rtspserver.Config{Addr: ":0", Lookup: lookup, Auth: rtspserver.Credentials{User: "viewer"}}, "empty password"},
		{"password without user", rtspserver.Config{Addr: ":0", Lookup: lookup, Auth: rtspserver.Credentials{Password: "x"}}, "without user"},
		{"no address", rtspserver.Config{Lookup: lookup}, "no listen address"},
		{"no lookup", rtspserver.Config{Addr: ":0"}, "no stream lookup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := rtspserver.New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want %q", err, c.want)
			}
		})
	}
}

func TestRunLifecycle(t *testing.T) {
	s, err := rtspserver.New(rtspserver.Config{Name: "test", Addr: "127.0.0.1:0",
		Lookup: func(string) (*gortsplib.ServerStream, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rtspserver.Run(ctx, "test", s) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Addr() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Addr() == "" {
		t.Fatal("server not listening after 5 s")
	}
	if code := rawDescribe(t, s.Addr(), ""); code != 404 {
		t.Errorf("unknown stream: %d, want 404", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		t.Error("still listening after Run returned")
	}
	if err := s.Start(); err == nil {
		t.Error("a closed server started again")
	}
	// A second server on a taken port names the address.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s2, _ := rtspserver.New(rtspserver.Config{Name: "test", Addr: busy.Addr().String(), Fix: "change test.addr",
		Lookup: func(string) (*gortsplib.ServerStream, error) { return nil, nil }})
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) || !strings.Contains(err.Error(), "change test.addr") {
		t.Errorf("Start on a busy port: %v", err)
	}
}

func TestPlayURL(t *testing.T) {
	for in, want := range map[string]string{
		":8554":         "rtsp://127.0.0.1:8554/cam",
		"0.0.0.0:8554":  "rtsp://127.0.0.1:8554/cam",
		"[::]:8554":     "rtsp://127.0.0.1:8554/cam",
		"10.0.0.2:8554": "rtsp://10.0.0.2:8554/cam",
	} {
		if got := rtspserver.PlayURL(in, "cam"); got != want {
			t.Errorf("PlayURL(%q) = %q, want %q", in, got, want)
		}
	}
}
