package broker_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/broker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() broker.Option {
	return broker.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func connect(t *testing.T, url, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	return c
}

func TestPublishSubscribeRetained(t *testing.T) {
	b, err := broker.Start("", quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || strings.HasSuffix(b.Addr(), ":0") {
		t.Fatalf("URL %q Addr %q", b.URL(), b.Addr())
	}

	pub := connect(t, b.URL(), "pub")
	defer pub.Disconnect(100)
	if tok := pub.Publish("t/state", 1, true, "hello"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}

	// A subscriber arriving later gets the retained value.
	sub := connect(t, b.URL(), "sub")
	defer sub.Disconnect(100)
	got := make(chan string, 1)
	tok := sub.Subscribe("t/#", 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- string(m.Payload()):
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "hello" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("retained message not received")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := broker.Start("127.0.0.1:0", quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct{ name, addr, want string }{
		{"not host:port", "127.0.0.1", "host:port"},
		{"not loopback", "0.0.0.0:0", "loopback"},
		{"port in use", busy.Addr(), "in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := broker.Start(tc.addr, quiet())
			if err == nil {
				b.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}
