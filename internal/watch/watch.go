// Package watch prints what the pipeline publishes on MQTT, one line per
// message, as any on-site subscriber receives it (`edge watch`, `edge run --print`).
package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
)

// Print subscribes to prefix/# and writes one line per message to w until
// ctx is done; what happens to the connection goes to stderr (see Watch).
func Print(ctx context.Context, brokerURL, user, password, prefix string, w io.Writer) error {
	return Watch(ctx, brokerURL, user, password, prefix, w, os.Stderr)
}

// Watch is Print with the connection's news (unreachable, connected, lost)
// written to status as it happens: a terminal that stays silent must mean
// that nothing is published, never that the broker is gone.
func Watch(ctx context.Context, brokerURL, user, password, prefix string, w, status io.Writer) error {
	return watch(ctx, brokerURL, user, password, prefix, w, status, nil)
}

// Events writes one line per event published under prefix to w until ctx
// is done, and nothing else: no state, occupancy, heartbeat, compliance or
// connection news (`edge run --print`, the demo's terminal; `edge watch`
// shows every message).
func Events(ctx context.Context, brokerURL, user, password, prefix string, w io.Writer) error {
	return watch(ctx, brokerURL, user, password, prefix, w, io.Discard, IsEvent)
}

// IsEvent reports whether topic is a camera's events topic.
func IsEvent(topic string) bool { return strings.HasSuffix(topic, "/events") }

// watch is Watch printing only the topics only accepts (all for nil).
func watch(ctx context.Context, brokerURL, user, password, prefix string, w, status io.Writer, only func(topic string) bool) error {
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(status, "edge watch: "+format+"\n", args...)
	}
	name := redact.URL(brokerURL)
	// failing is set once a failed attempt was reported, so that paho's
	// retries every second are reported once per outage, not each time.
	var failing atomic.Bool
	opts := paho.NewClientOptions().AddBroker(brokerURL).
		SetClientID(fmt.Sprintf("edge-watch-%d", time.Now().UnixNano())).
		SetUsername(user).SetPassword(password).
		SetConnectTimeout(3 * time.Second).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(5 * time.Second).
		SetOnConnectHandler(func(c paho.Client) {
			failing.Store(false)
			say("connected to %s, subscribed to %s/#", name, prefix)
			c.Subscribe(prefix+"/#", 1, func(_ paho.Client, m paho.Message) {
				if only != nil && !only(m.Topic()) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintln(w, describe(prefix, m.Topic(), m.Payload()))
			})
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			say("connection to %s lost (%v); reconnecting, messages published meanwhile are missed unless retained", name, err)
		}).
		// paho retries silently: say at the first failed attempt that
		// nothing answers there.
		SetConnectionNotificationHandler(func(_ paho.Client, n paho.ConnectionNotification) {
			var reason error
			switch n := n.(type) {
			case paho.ConnectionNotificationBrokerFailed:
				reason = n.Reason
			case paho.ConnectionNotificationFailed:
				reason = n.Reason
			default:
				return
			}
			if !failing.Swap(true) {
				say("broker %s not reachable (%v); retrying every second", name, redact.Text(fmt.Sprint(reason)))
			}
		})
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) && !c.IsConnected() {
		say("still no connection to %s; check --broker, the network, username and password", name)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	<-ctx.Done()
	c.Disconnect(250)
	return nil
}

// describe renders one message for a person reading a terminal.
func describe(prefix, topic string, payload []byte) string {
	rest := strings.TrimPrefix(topic, prefix+"/")
	switch {
	case strings.HasSuffix(rest, "/events"):
		var e events.Event
		if err := json.Unmarshal(payload, &e); err != nil {
			return fmt.Sprintf("%-10s %s %s", "EVENT?", topic, payload)
		}
		return fmt.Sprintf("%-10s %s %-5s camera=%s zone=%s track=%d occupancy=%d score=%.2f sign=%s  %s",
			"EVENT", e.TS.Format("15:04:05.000"), e.Type, e.Camera, e.Zone, e.TrackID, e.Occupancy, e.Score, e.SignageID, e.ID)
	case strings.HasSuffix(rest, "/state"):
		var s events.State
		if err := json.Unmarshal(payload, &s); err != nil {
			return fmt.Sprintf("%-10s %s %s", "STATE?", topic, payload)
		}
		var zs []string
		for _, z := range s.Zones {
			if z.Kind == "privacy" {
				zs = append(zs, z.ID+"=masked")
				continue
			}
			act := "off"
			if z.DetectionActive {
				act = "on"
			}
			zs = append(zs, fmt.Sprintf("%s=%s/detect-%s/%d", z.ID, z.SignageStatus, act, z.Occupancy))
		}
		reason := ""
		if s.Reason != "" {
			reason = " reason=" + s.Reason
		}
		return fmt.Sprintf("%-10s camera=%s %s%s %dx%d in=%.1ffps analysed=%.1ffps masked=%d dropped=%d zones[%s]",
			"STATE", s.Camera, s.Status, reason, s.Width, s.Height, s.InputFPS, s.ProcessedFPS, s.FramesMasked, s.FramesDropped, strings.Join(zs, " "))
	case strings.HasSuffix(rest, "/snapshot") && len(payload) == 0:
		// An empty retained message deletes the kept picture.
		return fmt.Sprintf("%-10s camera=%s cleared (no picture kept)", "SNAPSHOT", strings.TrimSuffix(rest, "/snapshot"))
	case strings.HasSuffix(rest, "/snapshot"):
		// A masked JPEG; the event it belongs to is named in its comment.
		event := ""
		if _, after, ok := strings.Cut(string(payload), "event="); ok && len(after) >= 36 {
			event = " event=" + after[:36]
		}
		return fmt.Sprintf("%-10s camera=%s %d-byte masked JPEG%s", "SNAPSHOT", strings.TrimSuffix(rest, "/snapshot"), len(payload), event)
	case strings.HasSuffix(rest, "/occupancy"):
		return fmt.Sprintf("%-10s %s = %s", "OCCUPANCY", strings.TrimSuffix(rest, "/occupancy"), payload)
	case strings.HasSuffix(rest, "/heartbeat"):
		var h events.Heartbeat
		if err := json.Unmarshal(payload, &h); err != nil {
			return fmt.Sprintf("%-10s %s %s", "HEARTBEAT?", topic, payload)
		}
		return fmt.Sprintf("%-10s site=%s box=%s cameras=%d uptime=%.0fs broker=%s failovers=%d spooled=%d",
			"HEARTBEAT", h.Site, h.Box, h.Cameras, h.UptimeS, h.Broker, h.Failovers, h.SpoolDepth)
	case rest == "available" || strings.HasSuffix(rest, "/available"):
		return fmt.Sprintf("%-10s %s", "AVAILABLE", payload)
	}
	return fmt.Sprintf("%-10s %s %s", "MQTT", topic, payload)
}
