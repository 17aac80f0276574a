package configs

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// redacted replaces any user information in a logged URL.
const redacted = "***:***"

// secretParams are query parameters whose values RedactURL hides: some
// cameras and brokers take credentials in the query instead of the userinfo.
var secretParams = []string{"password", "passwd", "pass", "pwd", "token", "secret", "key", "auth", "apikey", "api_key"}

// RedactURL returns raw with any user:password replaced by "***:***" and
// secret-looking query values replaced by "***", for logs and error messages.
// It never echoes the password, even when raw does not parse: then
// everything between "://" and the last '@' is hidden, and the query and
// fragment are dropped.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.User == nil && strings.Contains(raw, "@")) {
		// Unparsable, or an '@' that url.Parse did not read as userinfo
		// (e.g. an unescaped '/' in the password): be conservative.
		return redactLoose(raw)
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			for _, s := range secretParams {
				if strings.EqualFold(k, s) {
					q[k] = []string{"***"}
					changed = true
				}
			}
		}
		if changed {
			// Encode escapes '*'; keep the marker readable.
			u.RawQuery = strings.ReplaceAll(q.Encode(), "%2A%2A%2A", "***")
		}
	}
	if u.User == nil {
		return u.String()
	}
	u.User = nil
	s := u.String()
	if u.Scheme != "" && strings.HasPrefix(s, u.Scheme+"://") {
		return u.Scheme + "://" + redacted + "@" + s[len(u.Scheme)+3:]
	}
	if strings.HasPrefix(s, "//") {
		return "//" + redacted + "@" + s[2:]
	}
	return redacted + "@" + s
}

func redactLoose(raw string) string {
	cut := func(s string) string {
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return s[:i]
		}
		return s
	}
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return cut(raw)
	}
	prefix := ""
	if i := strings.Index(raw, "://"); i > 0 && i < at && isScheme(raw[:i]) {
		prefix = raw[:i+3]
	}
	return prefix + redacted + "@" + cut(raw[at+1:])
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, '+', '-' or '.'), so that nothing else is kept.
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

func secret(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// String prints the MQTT settings with the broker URL redacted and the
// password hidden.
func (m MQTT) String() string {
	return fmt.Sprintf("{broker:%q brokers:%q topic_prefix:%q client_id:%q username:%q password:%q tls:{ca:%q cert:%q key:%q} qos:%d spool_dir:%q}",
		RedactURL(m.Broker), redactURLs(m.Brokers), m.TopicPrefix, m.ClientID, m.Username, secret(m.Password),
		m.TLS.CA, m.TLS.Cert, m.TLS.Key, m.QoS, m.SpoolDir)
}

// GoString is String, so that %#v does not print the password either.
func (m MQTT) GoString() string { return "configs.MQTT" + m.String() }

// LogValue implements slog.LogValuer without the password.
func (m MQTT) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("broker", RedactURL(m.Broker)),
		slog.Any("brokers", redactURLs(m.Brokers)),
		slog.String("topic_prefix", m.TopicPrefix),
		slog.String("client_id", m.ClientID),
		slog.String("username", m.Username),
		slog.String("password", secret(m.Password)),
		slog.Int("qos", m.QoS),
		slog.String("spool_dir", m.SpoolDir),
	)
}

// String prints the camera with its URL redacted.
func (c Camera) String() string {
	return fmt.Sprintf("{id:%q url:%q transport:%q enabled:%t detect:%+v mask:%v zones:%d}",
		c.ID, RedactURL(c.URL), c.Transport, c.IsEnabled(), c.Detect, c.Mask.Color, len(c.Zones))
}

// GoString is String, so that %#v does not print the URL's password either.
func (c Camera) GoString() string { return "configs.Camera" + c.String() }

// LogValue implements slog.LogValuer with the URL redacted.
func (c Camera) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", c.ID),
		slog.String("url", RedactURL(c.URL)),
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
		out[i] = RedactURL(u)
	}
	return out
}
