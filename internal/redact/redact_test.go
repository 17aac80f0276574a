package redact_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/redact"
)

func TestURL(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"no credentials", "rtsp://10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1"},
		{"user and password", "rtsp://admin:hunter2@10.0.0.5/s", "rtsp://***@10.0.0.5/s"},
		{"user only", "mqtt://bob@broker:1883", "mqtt://***@broker:1883"},
		{"percent-encoded password", "rtsp://admin:p%40ss%2Fw0rd@cam/s", "rtsp://***@cam/s"},
		{"unescaped slash in password (unparsable)", "rtsp://admin:pa/ss@cam/s", "rtsp://***@cam/s"},
		{"unescaped @ in password", "rtsp://admin:p@ss@cam/s", "rtsp://***@cam/s"},
		{"unescaped ? and # in password", "rtsp://admin:p?a#ss@cam/s", "rtsp://***@cam/s"},
		{"password query", "rtsp://cam/s?user=admin&password=hunter2", "rtsp://cam/s?user=admin&password=***"},
		{"token query", "wss://broker/mqtt?token=abc.def", "wss://broker/mqtt?token=***"},
		{"signed URL", "https://bucket/x.mp4?X-Expires=1&sig=0a1b2c&foo=bar", "https://bucket/x.mp4?X-Expires=1&sig=***&foo=bar"},
		{"case-insensitive name", "rtsp://cam/s?PassWord=x", "rtsp://cam/s?PassWord=***"},
		{"percent-encoded name", "rtsp://cam/s?pass%77ord=x", "rtsp://cam/s?pass%77ord=***"},
		{"percent-encoded value", "rtsp://cam/s?pwd=h%26nter2", "rtsp://cam/s?pwd=***"},
		{"fragment token", "https://console/#access_token=eyJ", "https://console/#access_token=***"},
		{"semicolon separator", "rtsp://cam/s?a=1;key=k", "rtsp://cam/s?a=1;key=***"},
		{"both", "rtsps://u:p@cam/s?auth=z", "rtsps://***@cam/s?auth=***"},
		{"not a URL", "hunter2", "hunter2"},
		{"no scheme with @", "admin:hunter2@cam:554/s", "***@cam:554/s"},
		{"scheme-relative", "//admin:pw@cam/s", "//***@cam/s"},
		{"invalid escape in password", "rtsp://admin:p%zz@cam/s", "rtsp://***@cam/s"},
		{"space in password", "rtsp://admin:p ss@cam:554/s", "rtsp://***@cam:554/s"},
		{"IPv6 host", "tcp://u:pw@[::1]:1883", "tcp://***@[::1]:1883"},
		{"slash then @ in password", "rtsp://admin:1/ss@cam/s", "rtsp://***@cam/s"},
		{"password and fragment", "rtsp://cam/s?token=hunter2#x", "rtsp://cam/s?token=***#x"},
		{"empty", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.URL(tc.in); got != tc.want {
				t.Fatalf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"error quoting a URL", `dial "rtsp://admin:hunter2@cam:554/s": connection refused`, `dial "rtsp://***@cam:554/s": connection refused`},
		{"two URLs", "from mqtt://a:b@x to rtsp://c:d@y/z", "from mqtt://***@x to rtsp://***@y/z"},
		{"bare parameter", "auth failed with password=hunter2 for admin", "auth failed with password=*** for admin"},
		{"query in text", "GET /s?token=abc&x=1 401", "GET /s?token=*** 401"},
		{"nothing secret", "camera lobby: no video for 10s", "camera lobby: no video for 10s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := redact.Text(tc.in)
			if tc.name == "query in text" {
				// Only the secret goes; what follows it may be kept or not.
				if strings.Contains(got, "abc") || !strings.Contains(got, "token=***") {
					t.Fatalf("Text(%q) = %q", tc.in, got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScrubber(t *testing.T) {
	raw := "rtsp://admin:p%40ss%2Fword@cam/s?token=t0k3n"
	s := redact.NewScrubber(raw)
	for _, text := range []string{
		"dial " + raw + ": refused",
		"401 for user admin:p@ss/word",
		"password p@ss/word rejected",
		"password p%40ss%2Fword rejected",
		"bad token t0k3n",
		fmt.Sprint(fmt.Errorf("wrap: %w", errors.New("userinfo admin:p%40ss%2Fword"))),
	} {
		got := s.Text(text)
		for _, secret := range []string{"p@ss/word", "p%40ss%2Fword", "t0k3n"} {
			if strings.Contains(got, secret) {
				t.Errorf("Text(%q) = %q still holds %q", text, got, secret)
			}
		}
	}
	if got := s.Text("dial " + raw); got != "dial rtsp://***@cam/s?token=***" {
		t.Errorf("the whole URL became %q", got)
	}
	// A short password is removed inside the URL, not from every word.
	short := redact.NewScrubber("rtsp://a:on@cam/s")
	if got := short.Text("camera on fire: rtsp://a:on@cam/s"); got != "camera on fire: rtsp://***@cam/s" {
		t.Errorf("short password: %q", got)
	}
}

func TestValue(t *testing.T) {
	if redact.Value("") != "" || redact.Value("x") != redact.Mark {
		t.Fatal("Value must say whether a secret is set, as Mark")
	}
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{"rtsp://a:b@c/d?password=e", "rtsp://a:b/c@d", "x://@", "://a:b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Whatever the input, a password written as "user:SECRET@" after a
		// scheme never survives.
		const secret = "S3CRET-PW"
		in := "rtsp://user:" + secret + "@" + raw
		if got := redact.URL(in); strings.Contains(got, secret) {
			t.Fatalf("URL(%q) = %q", in, got)
		}
	})
}
