package configs

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/edgeprivacy/edge/internal/redact"
)

// String prints the MQTT settings with the broker URL redacted and the
// password hidden.
func (m MQTT) String() string {
	return fmt.Sprintf("{broker:%q brokers:%q topic_prefix:%q client_id:%q username:%q password:%q tls:{ca:%q cert:%q key:%q} qos:%d spool_dir:%q}",
		redact.URL(m.Broker), redactURLs(m.Brokers), m.TopicPrefix, m.ClientID, m.Username, redact.Value(m.Password),
		m.TLS.CA, m.TLS.Cert, m.TLS.Key, m.QoS, m.SpoolDir)
}

// GoString is String, so that %#v does not print the password either.
func (m MQTT) GoString() string { return "configs.MQTT" + m.String() }

// LogValue implements slog.LogValuer without the password.
func (m MQTT) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("broker", redact.URL(m.Broker)),
		slog.Any("brokers", redactURLs(m.Brokers)),
		slog.String("topic_prefix", m.TopicPrefix),
		slog.String("client_id", m.ClientID),
		slog.String("username", m.Username),
		slog.String("password", redact.Value(m.Password)),
		slog.Int("qos", m.QoS),
		slog.String("spool_dir", m.SpoolDir),
	)
}

// String prints the camera with its URL redacted.
func (c Camera) String() string {
	return fmt.Sprintf("{id:%q url:%q transport:%q enabled:%t detect:%+v mask:%v zones:%d}",
		c.ID, redact.URL(c.URL), c.Transport, c.IsEnabled(), c.Detect, c.Mask.Color, len(c.Zones))
}

// GoString is String, so that %#v does not print the URL's password either.
func (c Camera) GoString() string { return "configs.Camera" + c.String() }

// LogValue implements slog.LogValuer with the URL redacted.
func (c Camera) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("url", redact.URL(c.URL)),
		slog.String("transport", c.Transport),
		slog.Bool("enabled", c.IsEnabled()),
		slog.Int("zones", len(c.Zones)),
	)
}

// String summarises the configuration without any credential.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{site:%q mqtt:%s cameras:[", c.Site, c.MQTT)
	for i, cam := range c.Cameras {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(cam.String())
	}
	fmt.Fprintf(&b, "] signage:%d}", len(c.Signage))
	return b.String()
}

// GoString is String, so that %#v does not print credentials either.
func (c Config) GoString() string { return "configs.Config" + c.String() }

// LogValue implements slog.LogValuer without any credential.
func (c Config) LogValue() slog.Value {
	cams := make([]string, len(c.Cameras))
	for i, cam := range c.Cameras {
		cams[i] = cam.ID
	}
	return slog.GroupValue(
		slog.String("site", c.Site),
		slog.Any("mqtt", c.MQTT),
		slog.Any("cameras", cams),
		slog.Int("signs", len(c.Signage)),
	)
}

func redactURLs(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = redact.URL(u)
	}
	return out
}
