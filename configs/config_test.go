package configs_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/zones"
)

// validYAML is a small configuration that passes validation; cases mutate it.
const validYAML = `
site: test-site
mqtt:
  broker: tcp://127.0.0.1:1883
cameras:
  - id: lobby
    url: rtsp://user:pw@127.0.0.1:8554/cam
    signage: sign-1
    zones:
      - id: door
        kind: privacy
        polygon: [[0, 0], [0.2, 0], [0.2, 1], [0, 1]]
      - id: walkway
        kind: monitored
        signage: sign-1
        polygon: [[0.3, 0.3], [0.9, 0.3], [0.9, 0.9], [0.3, 0.9]]
signage:
  - id: sign-1
    purpose: crowd-safety
    purpose_detail: counting
    verified_at: 2026-01-01T00:00:00Z
    expires_at: 2030-01-01T00:00:00Z
`

func mustValid(t *testing.T) *configs.Config {
	t.Helper()
	c, err := configs.LoadBytes([]byte(validYAML))
	if err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	return c
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func zone(c *configs.Config, id string) *configs.Zone {
	for i := range c.Cameras[0].Zones {
		if c.Cameras[0].Zones[i].ID == id {
			return &c.Cameras[0].Zones[i]
		}
	}
	panic("no zone " + id)
}

func problems(t *testing.T, err error) []configs.Problem {
	t.Helper()
	var ve *configs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	return ve.Problems
}

func TestValidateProblems(t *testing.T) {
	const zw = "cameras[lobby].zones[walkway]"
	cases := []struct {
		name   string
		mutate func(c *configs.Config)
		path   string
		want   string // must appear in the problem's message or fix
	}{
		{"no cameras", func(c *configs.Config) { c.Cameras = nil }, "cameras", "add at least one camera"},
		{"empty camera id", func(c *configs.Config) { c.Cameras[0].ID = "" }, "cameras[#0].id", "give the camera an id"},
		{"camera id with slash", func(c *configs.Config) { c.Cameras[0].ID = "a/b" }, "cameras[#0].id", "MQTT topics"},
		{"camera id too long", func(c *configs.Config) { c.Cameras[0].ID = strings.Repeat("a", 65) }, "cameras[#0].id", "1 to 64"},
		{"duplicate camera id", func(c *configs.Config) {
			c.Cameras = append(c.Cameras, c.Cameras[0])
		}, "cameras[#1].id", "unique"},
		{"duplicate zone id", func(c *configs.Config) { zone(c, "walkway").ID = "door" }, "cameras[lobby].zones[#1].id", "unique"},
		{"zone id with plus", func(c *configs.Config) { zone(c, "walkway").ID = "a+b" }, "cameras[lobby].zones[#1].id", "MQTT topics"},
		{"duplicate sign id", func(c *configs.Config) {
			c.Signage = append(c.Signage, c.Signage[0])
		}, "signage[#1].id", "unique"},
		{"empty sign id", func(c *configs.Config) {
			c.Signage = append(c.Signage, c.Signage[0])
			c.Signage[1].ID = ""
		}, "signage[#1].id", "give the sign an id"},
		{"too few points", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{0.3, 0.3}, {0.9, 0.3}}
		}, zw + ".polygon", "at least 3"},
		{"coordinate out of range", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{0.3, 0.3}, {640, 0.3}, {0.9, 0.9}}
		}, zw + ".polygon", "normalised coordinates"},
		{"negative coordinate", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{-0.1, 0.3}, {0.9, 0.3}, {0.9, 0.9}}
		}, zw + ".polygon", "not pixels"},
		{"zero area", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{0.1, 0.1}, {0.5, 0.5}, {0.9, 0.9}}
		}, zw + ".polygon", "enclose an area"},
		{"self intersection", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{0.3, 0.3}, {0.9, 0.9}, {0.9, 0.3}, {0.3, 0.9}}
		}, zw + ".polygon", "do not cross"},
		{"point not a pair", func(c *configs.Config) {
			zone(c, "walkway").Polygon = [][]float64{{0.3}, {0.9, 0.3}, {0.9, 0.9}}
		}, zw + ".polygon", "[x, y]"},
		{"monitored without signage", func(c *configs.Config) { zone(c, "walkway").Signage = "" }, zw + ".signage", "registered sign"},
		{"monitored with unknown sign", func(c *configs.Config) { zone(c, "walkway").Signage = "nope" }, zw + ".signage", `add a sign with id "nope"`},
		{"unknown zone kind", func(c *configs.Config) { zone(c, "walkway").Kind = "private" }, zw + ".kind", "privacy or monitored"},
		{"missing zone kind", func(c *configs.Config) { zone(c, "walkway").Kind = "" }, zw + ".kind", "privacy or monitored"},
		{"expires before verified", func(c *configs.Config) {
			c.Signage[0].ExpiresAt = c.Signage[0].VerifiedAt.Add(-time.Hour)
		}, "signage[sign-1].expires_at", "after verified_at"},
		{"missing verified_at", func(c *configs.Config) { c.Signage[0].VerifiedAt = time.Time{} }, "signage[sign-1].verified_at", "RFC 3339"},
		{"missing expires_at", func(c *configs.Config) { c.Signage[0].ExpiresAt = time.Time{} }, "signage[sign-1].expires_at", "RFC 3339"},
		{"missing purpose", func(c *configs.Config) { c.Signage[0].Purpose = " " }, "signage[sign-1].purpose", "public-safety"},
		{"unknown transport", func(c *configs.Config) { c.Cameras[0].Transport = "http" }, "cameras[lobby].transport", "tcp"},
		{"url wrong scheme", func(c *configs.Config) { c.Cameras[0].URL = "http://cam/x" }, "cameras[lobby].url", "rtsp://"},
		{"url no host", func(c *configs.Config) { c.Cameras[0].URL = "rtsp:///x" }, "cameras[lobby].url", "no host"},
		{"url empty", func(c *configs.Config) { c.Cameras[0].URL = "" }, "cameras[lobby].url", "rtsp://"},
		{"url unparsable", func(c *configs.Config) { c.Cameras[0].URL = "rtsp://u:p%zz@cam/x" }, "cameras[lobby].url", "percent-encode"},
		{"fps zero", func(c *configs.Config) { c.Cameras[0].Detect.FPS = 0 }, "cameras[lobby].detect.fps", "at most 30"},
		{"fps negative", func(c *configs.Config) { c.Cameras[0].Detect.FPS = -1 }, "cameras[lobby].detect.fps", "above 0"},
		{"fps too high", func(c *configs.Config) { c.Cameras[0].Detect.FPS = 31 }, "cameras[lobby].detect.fps", "at most 30"},
		{"fps NaN", func(c *configs.Config) { c.Cameras[0].Detect.FPS = math.NaN() }, "cameras[lobby].detect.fps", "at most 30"},
		{"width too small", func(c *configs.Config) { c.Cameras[0].Detect.Width = 32 }, "cameras[lobby].detect.width", "64 to 4096"},
		{"width too large", func(c *configs.Config) { c.Cameras[0].Detect.Width = 8192 }, "cameras[lobby].detect.width", "64 to 4096"},
		{"upscale below 1", func(c *configs.Config) { c.Cameras[0].Detect.Upscale = 0.5 }, "cameras[lobby].detect.upscale", "from 1"},
		{"upscale too large", func(c *configs.Config) { c.Cameras[0].Detect.Upscale = 5 }, "cameras[lobby].detect.upscale", "from 1"},
		{"upscale NaN", func(c *configs.Config) { c.Cameras[0].Detect.Upscale = math.NaN() }, "cameras[lobby].detect.upscale", "from 1"},
		{"min_score above 1", func(c *configs.Config) { c.Cameras[0].Detect.MinScore = 1.5 }, "cameras[lobby].detect.min_score", "between 0 and 1"},
		{"min_score negative", func(c *configs.Config) { c.Cameras[0].Detect.MinScore = -0.1 }, "cameras[lobby].detect.min_score", "between 0 and 1"},
		{"person_height above 1", func(c *configs.Config) { c.Cameras[0].Detect.PersonHeight = 1.2 }, "cameras[lobby].detect.person_height", "fraction of the frame height"},
		{"person_height negative", func(c *configs.Config) { c.Cameras[0].Detect.PersonHeight = -0.1 }, "cameras[lobby].detect.person_height", "fraction of the frame height"},
		{"unknown detector", func(c *configs.Config) { c.Cameras[0].Detect.Kind = "yolo" }, "cameras[lobby].detect.kind", "hog"},
		{"haar without model", func(c *configs.Config) { c.Cameras[0].Detect.Kind = "haar" }, "cameras[lobby].detect.model", "path of the model"},
		{"face cascade refused", func(c *configs.Config) {
			c.Cameras[0].Detect.Kind, c.Cameras[0].Detect.Model = "haar", "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
		}, "cameras[lobby].detect.model", "person"},
		{"dnn model missing", func(c *configs.Config) {
			c.Cameras[0].Detect.Kind, c.Cameras[0].Detect.Model = "dnn", "/nonexistent/ssd.caffemodel"
		}, "cameras[lobby].detect.model", "check the path"},
		{"qos 3", func(c *configs.Config) { c.MQTT.QoS = 3 }, "mqtt.qos", "exactly once"},
		{"qos negative", func(c *configs.Config) { c.MQTT.QoS = -1 }, "mqtt.qos", "0 (at most once)"},
		{"broker wrong scheme", func(c *configs.Config) { c.MQTT.Broker = "http://broker:1883" }, "mqtt.broker", "tcp://host:1883"},
		{"broker no host", func(c *configs.Config) { c.MQTT.Broker = "tcp://" }, "mqtt.broker", "embedded broker"},
		{"broker no scheme", func(c *configs.Config) { c.MQTT.Broker = "broker:1883" }, "mqtt.broker", "tcp://host:1883"},
		{"tls cert without key", func(c *configs.Config) { c.MQTT.TLS.Cert = "client.pem" }, "mqtt.tls.key", "private key"},
		{"tls key without cert", func(c *configs.Config) { c.MQTT.TLS.Key = "client.key" }, "mqtt.tls.cert", "certificate"},
		{"topic prefix wildcard", func(c *configs.Config) { c.MQTT.TopicPrefix = "edge/#" }, "mqtt.topic_prefix", "single valid topic level"},
		{"topic prefix dot", func(c *configs.Config) { c.MQTT.TopicPrefix = "edge.eu" }, "mqtt.topic_prefix", "single valid topic level"},
		{"topic prefix two levels", func(c *configs.Config) { c.MQTT.TopicPrefix = "eu/edge" }, "mqtt.topic_prefix", "site and box_id follow"},
		{"box id dot", func(c *configs.Config) { c.BoxID = "box.1" }, "box_id", "MQTT topics"},
		{"box id plus", func(c *configs.Config) { c.BoxID = "box+1" }, "box_id", "MQTT topics"},
		{"box id too long", func(c *configs.Config) { c.BoxID = strings.Repeat("b", 65) }, "box_id", "1 to 64"},
		{"broker and brokers", func(c *configs.Config) { c.MQTT.Brokers = []string{"tcp://b:1883"} }, "mqtt.broker", "remove mqtt.broker"},
		{"brokers bad entry", func(c *configs.Config) {
			c.MQTT.Broker, c.MQTT.Brokers = "", []string{"tcp://a:1883", "http://u:s3cret@b:1883"}
		}, "mqtt.brokers[1]", "tcp://host:1883"},
		{"brokers twice", func(c *configs.Config) {
			c.MQTT.Broker, c.MQTT.Brokers = "", []string{"tcp://a:1883", "tcp://a:1883"}
		}, "mqtt.brokers[1]", "once"},
		{"heartbeat too long", func(c *configs.Config) { c.MQTT.HeartbeatSeconds = 3601 }, "mqtt.heartbeat_seconds", "1 to 3600"},
		{"heartbeat negative", func(c *configs.Config) { c.MQTT.HeartbeatSeconds = -1 }, "mqtt.heartbeat_seconds", "1 to 3600"},
		{"detect pool negative", func(c *configs.Config) { c.DetectPool.Workers = -1 }, "detect_pool.workers", "1..256"},
		{"detect pool too big", func(c *configs.Config) { c.DetectPool.Workers = 257 }, "detect_pool.workers", "1..256"},
		{"mask colour too big", func(c *configs.Config) { c.Cameras[0].Mask.Color = [3]int{0, 256, 0} }, "cameras[lobby].mask.color", "0..255"},
		{"mask colour negative", func(c *configs.Config) { c.Cameras[0].Mask.Color = [3]int{-1, 0, 0} }, "cameras[lobby].mask.color", "0..255"},
		{"site invalid", func(c *configs.Config) { c.Site = "my site" }, "site", "MQTT topics"},
		{"wholly private camera", func(c *configs.Config) {
			zone(c, "door").Polygon = [][]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
		}, "cameras[lobby].zones", "must not be installed"},
		{"privacy union over 95%", func(c *configs.Config) {
			zone(c, "door").Polygon = [][]float64{{0, 0}, {0.6, 0}, {0.6, 1}, {0, 1}}
			c.Cameras[0].Zones = append(c.Cameras[0].Zones, configs.Zone{
				ID: "rest", Kind: "privacy", Polygon: [][]float64{{0.5, 0}, {1, 0}, {1, 0.98}, {0.5, 0.98}},
			})
		}, "cameras[lobby].zones", "narrow the privacy zones"},
		{"restream addr without port", func(c *configs.Config) { c.Restream.Addr = "127.0.0.1" }, "restream.addr", "host:port"},
		{"restream addr bad port", func(c *configs.Config) { c.Restream.Addr = "127.0.0.1:99999" }, "restream.addr", "127.0.0.1:8554"},
		{"restream password without username", func(c *configs.Config) { c.Restream.Password = "pw" }, "restream.username", "restream.username"},
		{"restream username with empty password", func(c *configs.Config) { c.Restream.Username = "viewer" }, "restream.password", "EDGE_RESTREAM_PASSWORD"},
		{"restream on all interfaces without auth", func(c *configs.Config) { c.Restream.Addr = "0.0.0.0:8554" }, "restream.username", "allow_anonymous: true"},
		{"restream on an empty host without auth", func(c *configs.Config) { c.Restream.Addr = ":8554" }, "restream.username", "listen on 127.0.0.1"},
		{"restream on a LAN address without auth", func(c *configs.Config) { c.Restream.Addr = "192.168.1.10:8554" }, "restream.username", "reachable from other machines"},
		{"encode bitrate too low", func(c *configs.Config) { c.Cameras[0].Encode.BitrateKbps = 50 }, "cameras[lobby].encode.bitrate_kbps", "800 to 50000"},
		{"encode fps too high", func(c *configs.Config) { c.Cameras[0].Encode.FPS = 120 }, "cameras[lobby].encode.fps", "at most 60"},
		{"encode width odd", func(c *configs.Config) { c.Cameras[0].Encode.Width = 641 }, "cameras[lobby].encode.width", "even width"},
		{"encode width tiny", func(c *configs.Config) { c.Cameras[0].Encode.Width = 32 }, "cameras[lobby].encode.width", "64 to 7680"},
		{"record segment too short", func(c *configs.Config) {
			c.Cameras[0].Record.Enabled, c.Cameras[0].Record.SegmentSeconds = true, 1
		}, "cameras[lobby].record.segment_seconds", "2 to 3600"},
		{"record max_bytes too small", func(c *configs.Config) {
			c.Cameras[0].Record.Enabled, c.Cameras[0].Record.MaxBytes = true, 1000
		}, "cameras[lobby].record.max_bytes", "1 MiB"},
		{"record max_days negative", func(c *configs.Config) {
			c.Cameras[0].Record.Enabled, c.Cameras[0].Record.MaxDays = true, -1
		}, "cameras[lobby].record.max_days", "1 or more"},
		{"disabled camera still checked", func(c *configs.Config) {
			f := false
			c.Cameras[0].Enabled = &f
			c.Cameras[0].Transport = "sctp"
		}, "cameras[lobby].transport", "udp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			tc.mutate(c)
			ps := problems(t, c.Validate())
			var found *configs.Problem
			for i := range ps {
				if ps[i].Path == tc.path {
					found = &ps[i]
				}
			}
			if found == nil {
				t.Fatalf("no problem at %q; got %v", tc.path, ps)
			}
			if !strings.Contains(found.Msg+" "+found.Fix, tc.want) {
				t.Errorf("problem %q does not mention %q", found, tc.want)
			}
			if found.Fix == "" {
				t.Errorf("problem %q has no fix", found)
			}
			if len(ps) != 1 {
				t.Errorf("want exactly one problem, got %d: %v", len(ps), ps)
			}
		})
	}
}

func TestValidateNeverEchoesPassword(t *testing.T) {
	for _, u := range []string{"rtsp://admin:hunter2%zz@cam/x", "http://admin:hunter2@cam/x", "rtsp://admin:hunter2@/x"} {
		c := mustValid(t)
		c.Cameras[0].URL = u
		c.MQTT.Broker = strings.Replace(u, "rtsp", "tcp", 1)
		err := c.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the password: %v", u, err)
		}
	}
}

func TestValidAccepted(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *configs.Config)
	}{
		{"as is", func(*configs.Config) {}},
		{"privacy zone with signage is ignored", func(c *configs.Config) { zone(c, "door").Signage = "not-a-sign" }},
		{"rtsps url", func(c *configs.Config) { c.Cameras[0].URL = "rtsps://cam:322/main" }},
		{"udp", func(c *configs.Config) { c.Cameras[0].Transport = "udp" }},
		{"haar full-body cascade", func(c *configs.Config) {
			c.Cameras[0].Detect.Kind, c.Cameras[0].Detect.Model = "haar", "/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml"
		}},
		{"embedded broker", func(c *configs.Config) { c.MQTT.Broker = "" }},
		{"ws broker", func(c *configs.Config) { c.MQTT.Broker = "wss://broker.example.com/mqtt" }},
		{"mqtts broker", func(c *configs.Config) { c.MQTT.Broker = "mqtts://broker:8883" }},
		{"qos 0", func(c *configs.Config) { c.MQTT.QoS = 0 }},
		{"ca only", func(c *configs.Config) { c.MQTT.TLS.CA = "ca.pem" }},
		{"no zones", func(c *configs.Config) { c.Cameras[0].Zones = nil }},
		{"privacy just under 95%", func(c *configs.Config) {
			zone(c, "door").Polygon = [][]float64{{0, 0}, {0.9, 0}, {0.9, 1}, {0, 1}}
			zone(c, "walkway").Polygon = [][]float64{{0.92, 0.1}, {1, 0.1}, {1, 0.9}, {0.92, 0.9}}
		}},
		{"white mask", func(c *configs.Config) { c.Cameras[0].Mask.Color = [3]int{255, 255, 255} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			tc.mutate(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := mustValid(t)
	c.MQTT.QoS = 7
	c.Cameras[0].Transport = "quic"
	zone(c, "walkway").Signage = ""
	zone(c, "door").Polygon = [][]float64{{0, 0}, {2, 0}, {0, 1}}
	c.Signage[0].ExpiresAt = time.Time{}
	err := c.Validate()
	ps := problems(t, err)
	want := []string{
		"mqtt.qos",
		"cameras[lobby].transport",
		"cameras[lobby].zones[walkway].signage",
		"cameras[lobby].zones[door].polygon",
		"signage[sign-1].expires_at",
	}
	if len(ps) != len(want) {
		t.Errorf("got %d problems, want %d: %v", len(ps), len(want), ps)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, "\n  "+w+": ") {
			t.Errorf("error does not list %s on its own line:\n%s", w, msg)
		}
	}
	if !strings.HasPrefix(msg, fmt.Sprintf("%d problems:", len(want))) {
		t.Errorf("error does not start with the count: %q", msg)
	}
}

func TestLoadValidationErrorNamesFile(t *testing.T) {
	p := writeFile(t, strings.Replace(validYAML, "kind: monitored", "kind: watched", 1))
	_, err := configs.Load(p)
	if err == nil {
		t.Fatal("accepted unknown kind")
	}
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Path != "cameras[lobby].zones[walkway].kind" {
		t.Errorf("problems = %v", ps)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("error does not name the file %s: %v", p, err)
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"top level", "site: test-site", "site: test-site\nsitee: x", []string{"sitee", "(top level)"}},
		{"mqtt", "broker: tcp", "brokr: x\n  broker: tcp", []string{"brokr", "mqtt"}},
		{"camera", "    url: rtsp", "    urll: x\n    url: rtsp", []string{"urll", "cameras[0]"}},
		{"zone typo hides polygon", "        kind: privacy\n        polygon:", "        kind: privacy\n        polygons:", []string{"polygons", "cameras[0].zones[0]"}},
		{"sign", "    purpose: crowd-safety", "    purpose: crowd-safety\n    expiry: 2030-01-01", []string{"expiry", "signage[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validYAML, tc.from) {
				t.Fatalf("bad case: %q not in validYAML", tc.from)
			}
			p := writeFile(t, strings.Replace(validYAML, tc.from, tc.to, 1))
			_, err := configs.Load(p)
			if err == nil {
				t.Fatal("unknown key accepted")
			}
			var de *configs.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("want *DecodeError, got %T: %v", err, err)
			}
			for _, w := range append(tc.want, p, "unknown key") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q: %v", w, err)
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"bad time", "expires_at: 2030-01-01T00:00:00Z", "expires_at: next year", "expires_at"},
		{"short colour", "    url: rtsp", "    mask: {color: [1, 2]}\n    url: rtsp", "[r, g, b]"},
		{"long colour", "    url: rtsp", "    mask: {color: [1, 2, 3, 4]}\n    url: rtsp", "[r, g, b]"},
		{"fps not a number", "    url: rtsp", "    detect: {fps: fast}\n    url: rtsp", "detect.fps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validYAML, tc.from) {
				t.Fatalf("bad case: %q not in validYAML", tc.from)
			}
			_, err := configs.LoadBytes([]byte(strings.Replace(validYAML, tc.from, tc.to, 1)))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q: %v", tc.want, err)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	y := strings.Replace(validYAML, "verified_at: 2026-01-01T00:00:00Z", "verified_at: 2026-03-04", 1)
	y = strings.Replace(y, "expires_at: 2030-01-01T00:00:00Z", `expires_at: "2030-01-01T08:00:00+08:00"`, 1)
	c, err := configs.LoadBytes([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Signage[0].VerifiedAt, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("verified_at = %v, want %v", got, want)
	}
	if got, want := c.Signage[0].ExpiresAt, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("expires_at = %v, want %v", got, want)
	}
}

func TestEnvOverride(t *testing.T) {
	t.Setenv("EDGE_MQTT_BROKER", "ssl://override.example:8883")
	t.Setenv("EDGE_MQTT_PASSWORD", "from-env")
	t.Setenv("EDGE_MQTT_USERNAME", "env-user")
	t.Setenv("EDGE_MQTT_QOS", "2")
	t.Setenv("EDGE_SITE", "env-site")
	// The file sets broker; it has no password, username or qos.
	c, err := configs.Load(writeFile(t, validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Broker != "ssl://override.example:8883" {
		t.Errorf("broker = %q, want the env value", c.MQTT.Broker)
	}
	if c.MQTT.Password != "from-env" || c.MQTT.Username != "env-user" {
		t.Errorf("username/password = %q/%q, want env values", c.MQTT.Username, c.MQTT.Password)
	}
	if c.MQTT.QoS != 2 {
		t.Errorf("qos = %d, want 2", c.MQTT.QoS)
	}
	if c.Site != "env-site" || !strings.HasPrefix(c.MQTT.ClientID, "edge-env-site-") || c.MQTT.ClientID != "edge-"+c.BoxID {
		t.Errorf("site/box_id/client_id = %q/%q/%q, want env-site, env-site-<host>, edge-<box_id>", c.Site, c.BoxID, c.MQTT.ClientID)
	}

	// A file without an mqtt section (nor a site) is overridden all the same.
	c, err = configs.LoadBytes([]byte("cameras:\n  - id: c1\n    url: rtsp://127.0.0.1/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Broker != "ssl://override.example:8883" || c.MQTT.Password != "from-env" || c.Site != "env-site" {
		t.Errorf("without the keys in the file: broker %q password set %t site %q", c.MQTT.Broker, c.MQTT.Password != "", c.Site)
	}
}

func TestEnvOverrideIsValidated(t *testing.T) {
	t.Setenv("EDGE_MQTT_BROKER", "http://nope")
	_, err := configs.LoadBytes([]byte(validYAML))
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Path != "mqtt.broker" {
		t.Errorf("problems = %v", ps)
	}
}

func TestDefaults(t *testing.T) {
	c, err := configs.LoadBytes([]byte(`
site: s1
cameras:
  - id: c1
    url: rtsp://127.0.0.1/x
  - id: c2
    url: rtsp://127.0.0.1/y
    enabled: false
    transport: udp
    detect: {fps: 2, width: 320, min_score: 0.7}
    mask: {color: [255, 0, 0]}
`))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"broker", c.MQTT.Broker, ""},
		{"topic_prefix", c.MQTT.TopicPrefix, "edge"},
		{"client_id", c.MQTT.ClientID, "edge-" + c.BoxID},
		{"box_id from site and host", strings.HasPrefix(c.BoxID, "s1-") && len(c.BoxID) > 3, true},
		{"topics", c.Topics(), "edge/s1/" + c.BoxID},
		{"heartbeat_seconds", c.MQTT.HeartbeatSeconds, 15},
		{"qos", c.MQTT.QoS, 1},
		{"spool_dir", c.MQTT.SpoolDir, configs.DefaultSpoolDir},
		{"c1 transport", c.Cameras[0].Transport, "tcp"},
		{"c1 enabled", c.Cameras[0].IsEnabled(), true},
		{"c1 enabled set", c.Cameras[0].Enabled != nil, true},
		{"c1 fps", c.Cameras[0].Detect.FPS, configs.DefaultFPS},
		{"c1 width", c.Cameras[0].Detect.Width, 640},
		{"c1 min_score", c.Cameras[0].Detect.MinScore, configs.DefaultMinScore},
		{"c1 mask", c.Cameras[0].Mask.Color, [3]int{0, 0, 0}},
		{"detect pool workers", c.DetectPool.Workers, configs.DefaultDetectPoolWorkers()},
		{"c2 enabled", c.Cameras[1].IsEnabled(), false},
		{"c2 transport", c.Cameras[1].Transport, "udp"},
		{"c2 detect", c.Cameras[1].Detect, configs.Detect{FPS: 2, Width: 320, Upscale: 1, MinScore: 0.7, PersonHeight: zones.DefaultPersonHeight, Kind: "hog"}},
		{"c1 detector", c.Cameras[0].Detect.Kind, "hog"},
		{"c2 mask", c.Cameras[1].Mask.Color, [3]int{255, 0, 0}},
		{"enabled cameras", len(c.EnabledCameras()), 1},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}

	c, err = configs.LoadBytes([]byte(strings.Replace(validYAML, "  broker: tcp://127.0.0.1:1883", "  broker: tcp://127.0.0.1:1883\n  qos: 0", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.QoS != 0 {
		t.Errorf("explicit qos 0 became %d", c.MQTT.QoS)
	}
}

func TestOutputDefaults(t *testing.T) {
	c, err := configs.LoadBytes([]byte(`
site: s1
restream: {username: viewer, password: pw}
cameras:
  - id: c1
    url: rtsp://127.0.0.1/x
    restream: true
    record: {enabled: true}
    snapshots: {enabled: true, crop: true}
    signage: cam-sign
  - id: c2
    url: rtsp://127.0.0.1/y
    encode: {bitrate_kbps: 800, fps: 10, width: 640}
    record: {dir: /var/rec, segment_seconds: 30, max_bytes: 2000000, max_days: 2}
signage:
  - {id: cam-sign, purpose: public-safety, verified_at: 2026-01-01, expires_at: 2030-01-01}
`))
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := c.Cameras[0], c.Cameras[1]
	for _, ch := range []struct {
		name      string
		got, want any
	}{
		{"restream addr", c.Restream.Addr, "127.0.0.1:8554"},
		{"restream user", c.Restream.Username, "viewer"},
		{"c1 restream", c1.Restream, true},
		{"c1 encodes", c1.Encodes(), true},
		{"c1 encode", c1.Encode, configs.Encode{BitrateKbps: 2000, FPS: 15}},
		{"c1 record", c1.Record, configs.Record{Enabled: true, Dir: "./recordings", SegmentSeconds: 60, MaxBytes: 10 << 30, MaxDays: 7}},
		{"c1 snapshots", c1.Snapshots, configs.Snapshots{Enabled: true, Crop: true, RetainSeconds: 300}},
		{"c2 restream", c2.Restream, false},
		{"c2 encodes", c2.Encodes(), false},
		{"c2 encode", c2.Encode, configs.Encode{BitrateKbps: 800, FPS: 10, Width: 640}},
		{"c2 record", c2.Record, configs.Record{Dir: "/var/rec", SegmentSeconds: 30, MaxBytes: 2000000, MaxDays: 2}},
		{"c2 snapshots", c2.Snapshots, configs.Snapshots{RetainSeconds: 300}},
	} {
		t.Run(ch.name, func(t *testing.T) {
			if ch.got != ch.want {
				t.Errorf("got %+v, want %+v", ch.got, ch.want)
			}
		})
	}
}

func TestShippedConfigs(t *testing.T) {
	for _, name := range []string{"example.yaml", "demo.yaml"} {
		t.Run(name, func(t *testing.T) {
			c, err := configs.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.Cameras {
				if _, err := c.Cameras[i].ZoneList(); err != nil {
					t.Errorf("camera %s: %v", c.Cameras[i].ID, err)
				}
			}
		})
	}

	c, err := configs.Load("demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cam, ok := c.Camera("lobby")
	if c.Site != "demo" || c.MQTT.Broker != "" || !ok || cam.URL != "rtsp://127.0.0.1:8554/vtest" || !cam.IsEnabled() {
		t.Fatalf("demo config is not the demo: %v", c)
	}
	zs, err := cam.ZoneList()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]zones.Kind{}
	for _, z := range zs {
		kinds[z.ID] = z.Kind
	}
	if kinds["changing-room"] != zones.Privacy || kinds["walkway"] != zones.Monitored {
		t.Errorf("demo zones = %v", kinds)
	}
	now := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, z := range zs {
		if z.Kind != zones.Monitored {
			continue
		}
		if st := c.SignMap()[z.Signage].StatusAt(now); st != zones.SignValid {
			t.Errorf("demo zone %s sign status %s in 2027", z.ID, st)
		}
	}

	ex, err := configs.Load("example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Cameras) != 2 || ex.Cameras[1].IsEnabled() {
		t.Errorf("example should have two cameras, the second disabled: %v", ex)
	}
}

func TestConversions(t *testing.T) {
	c := mustValid(t)
	zone(c, "door").Signage = "ignored"
	zs, err := c.Cameras[0].ZoneList()
	if err != nil {
		t.Fatal(err)
	}
	if len(zs) != 2 || zs[0].Kind != zones.Privacy || zs[0].Signage != "" ||
		zs[1].Kind != zones.Monitored || zs[1].Signage != "sign-1" || len(zs[1].Polygon) != 4 {
		t.Errorf("ZoneList = %+v", zs)
	}
	if got := zs[1].Polygon[1]; got != (zones.Point{X: 0.9, Y: 0.3}) {
		t.Errorf("walkway point 1 = %v", got)
	}
	if n := len(c.Cameras[0].PrivacyPolygons()); n != 1 {
		t.Errorf("PrivacyPolygons: %d, want 1", n)
	}
	s, ok := c.SignMap()["sign-1"]
	if !ok || s.Purpose != "crowd-safety" || s.PurposeDetail != "counting" || !s.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("SignMap = %+v", c.SignMap())
	}
	if _, ok := c.Camera("nope"); ok {
		t.Error("Camera found a camera that does not exist")
	}
	zone(c, "walkway").Polygon = [][]float64{{0, 0}}
	if _, err := c.Cameras[0].ZoneList(); !errors.Is(err, zones.ErrTooFewPoints) {
		t.Errorf("ZoneList on a bad polygon: %v", err)
	}
}

func TestFormattingHidesSecrets(t *testing.T) {
	c := mustValid(t)
	c.MQTT.Password = "mqtt-secret"
	c.MQTT.Broker = "tcp://bu:broker-secret@127.0.0.1:1883"
	c.Cameras[0].URL = "rtsp://admin:cam-secret@127.0.0.1/x"
	c.Restream.Password = "rtsp-secret"
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "config", c, "camera", c.Cameras[0], "mqtt", c.MQTT, "restream", c.Restream)
	outs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", *c),
		"%#v":  fmt.Sprintf("%#v", *c),
		"cams": fmt.Sprintf("%+v", c.Cameras),
		"mqtt": fmt.Sprintf("%#v", c.MQTT),
		"rtsp": fmt.Sprintf("%v %+v %#v", c.Restream, c.Restream, c.Restream),
		"slog": logs.String(),
	}
	for name, out := range outs {
		for _, s := range []string{"mqtt-secret", "broker-secret", "cam-secret", "rtsp-secret"} {
			if strings.Contains(out, s) {
				t.Errorf("%s output leaks %q: %s", name, s, out)
			}
		}
		if !strings.Contains(out, "127.0.0.1") && name != "slog" {
			t.Errorf("%s output lost the host: %s", name, out)
		}
	}
	if !strings.Contains(logs.String(), `"site":"test-site"`) {
		t.Errorf("slog output lacks the site: %s", logs.String())
	}
}

// FuzzLoadBytes checks that no input panics the loader and that whatever it
// accepts also passes Validate and converts to zones.
func FuzzLoadBytes(f *testing.F) {
	f.Add([]byte(validYAML))
	for _, name := range []string{"example.yaml", "demo.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("cameras: 3"))
	f.Add([]byte("cameras: [{zones: [{polygon: [[1e308, -0], [0.5]]}]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := configs.LoadBytes(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded config fails Validate: %v", err)
		}
		for i := range c.Cameras {
			if _, err := c.Cameras[i].ZoneList(); err != nil {
				t.Fatalf("loaded config fails ZoneList: %v", err)
			}
		}
	})
}

func TestBrokers(t *testing.T) {
	t.Run("list from the file", func(t *testing.T) {
		c, err := configs.LoadBytes([]byte(strings.Replace(validYAML, "  broker: tcp://127.0.0.1:1883",
			"  brokers: [tcp://n1:1883, tcp://n2:1883, tcp://n3:1883]", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.MQTT.BrokerList(); len(got) != 3 || got[2] != "tcp://n3:1883" {
			t.Errorf("brokers = %v", got)
		}
	})
	t.Run("list from the environment", func(t *testing.T) {
		t.Setenv("EDGE_MQTT_BROKERS", "tcp://e1:1883,tcp://e2:1883")
		c, err := configs.LoadBytes([]byte(strings.Replace(validYAML, "  broker: tcp://127.0.0.1:1883\n", "  qos: 1\n", 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.MQTT.BrokerList(); len(got) != 2 || got[1] != "tcp://e2:1883" {
			t.Errorf("brokers = %v", got)
		}
	})
	t.Run("list from the environment under an empty mqtt section", func(t *testing.T) {
		// `mqtt:` with nothing under it is a null in YAML; it once won over the
		// environment in about half of the loads (map order inside viper).
		t.Setenv("EDGE_MQTT_BROKERS", "tcp://e1:1883,tcp://e2:1883")
		for i := range 40 {
			c, err := configs.LoadBytes([]byte("site: s1\nmqtt:\ncameras:\n  - id: c1\n    url: rtsp://127.0.0.1/x\n"))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.MQTT.BrokerList(); len(got) != 2 || got[1] != "tcp://e2:1883" {
				t.Fatalf("load %d: brokers = %v, want the two from EDGE_MQTT_BROKERS", i, got)
			}
		}
	})
	t.Run("passwords stay out of String", func(t *testing.T) {
		m := configs.MQTT{Brokers: []string{"tcp://u:s3cret@n1:1883"}}
		if s := fmt.Sprint(m) + fmt.Sprintf("%#v", m); strings.Contains(s, "s3cret") {
			t.Errorf("password printed: %s", s)
		}
	})
}

func TestDefaultBoxIDIsAValidLevel(t *testing.T) {
	c, err := configs.LoadBytes([]byte("site: " + strings.Repeat("s", 64) + "\ncameras:\n  - id: c1\n    url: rtsp://127.0.0.1/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.BoxID) != 64 {
		t.Errorf("box id %q: want cut to 64", c.BoxID)
	}
}

func TestUnknownKeySuggestsNearest(t *testing.T) {
	_, err := configs.LoadBytes([]byte("site: s\nmqtt:\n  qso: 1\n  topic_prefx: edge\ncameras:\n  - id: a\n    url: rtsp://127.0.0.1/a\n    detect: {min_scor: 0.5}\n    zzzzzzzz: 1\nsitee: x\n"))
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	for _, want := range []string{"qso; did you mean qos?", "topic_prefx; did you mean topic_prefix?", "min_scor; did you mean min_score?",
		"sitee; did you mean site?", "zzzzzzzz; remove it or fix the spelling"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A reload rejected for a typo must also name what validation finds in the
// rest of the file, so one try lists every problem; a decode that fails
// for a wrong type still stops there (the rest may be misread).
func TestUnknownKeyAndInvalidValueBothReported(t *testing.T) {
	y := strings.Replace(validYAML, "site: test-site", "site: test-site\nsitee: x", 1)
	y = strings.Replace(y, "purpose: crowd-safety", "purpose: marketing", 1)
	if !strings.Contains(y, "sitee") || !strings.Contains(y, "purpose: marketing") {
		t.Fatal("bad case: validYAML changed")
	}
	_, err := configs.LoadBytes([]byte(y))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"sitee", "did you mean site?", "purpose", "marketing"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q: %v", w, err)
		}
	}
	p := writeFile(t, y)
	_, err = configs.Load(p)
	var de *configs.DecodeError
	if !errors.As(err, &de) || len(de.Problems) < 2 {
		t.Fatalf("Load: want a DecodeError with the typo and the purpose, got %v", err)
	}

	bad := strings.Replace(y, "    url: rtsp", "    detect: {fps: fast}\n    url: rtsp", 1)
	_, err = configs.LoadBytes([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "detect.fps") {
		t.Fatalf("wrong type: want detect.fps named, got %v", err)
	}
}
