package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/pipeline"
)

// auditLog is an append-only JSON-lines record for inspectors: every config
// applied or rejected (cameras, zones, signage), every event produced (before
// the broker sees it), and each camera's masking counts once a minute. It
// never holds pixels or credentials.
type auditLog struct {
	next pipeline.Sink
	log  *slog.Logger
	mu   sync.Mutex
	f    *os.File
	enc  *json.Encoder
}

// auditRecord is one line. Kind is "config", "config_change", "config_rejected", "event" or "masking".
type auditRecord struct {
	TS      time.Time     `json:"ts"`
	Kind    string        `json:"kind"`
	Config  *auditConfig  `json:"config,omitempty"`
	Error   string        `json:"error,omitempty"`
	Event   *events.Event `json:"event,omitempty"`
	Masking *auditMasking `json:"masking,omitempty"`
	Change  *auditChange  `json:"change,omitempty"`
}

// auditChange is a config change made from the operator console.
type auditChange struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"` // of the file after the change
	User   string `json:"user"`
	Action string `json:"action"`
}

type auditConfig struct {
	File     string         `json:"file"`
	SHA256   string         `json:"sha256"`
	Reason   string         `json:"reason"` // "start" or "reload"
	Started  []string       `json:"started,omitempty"`
	Updated  []string       `json:"updated,omitempty"` // reconfigured in place, not restarted
	Replaced []string       `json:"replaced,omitempty"`
	Stopped  []string       `json:"stopped,omitempty"`
	Cameras  []auditCamera  `json:"cameras"`
	Signage  []configs.Sign `json:"signage"`
}

type auditCamera struct {
	ID       string         `json:"id"`
	URL      string         `json:"url"` // redacted
	Enabled  bool           `json:"enabled"`
	Zones    []configs.Zone `json:"zones"`
	Detector auditDetector  `json:"detector"`
	// The masked outputs in force: inspectors check that storage is off where
	// the law allows live viewing only.
	Restream  bool `json:"restream"`
	Snapshots bool `json:"snapshots"`
	Record    bool `json:"record"`
}

type auditDetector struct {
	Kind   string `json:"kind"`
	Model  string `json:"model,omitempty"`
	SHA256 string `json:"model_sha256,omitempty"`
}

type auditMasking struct {
	Camera     string `json:"camera"`
	Decoded    uint64 `json:"frames_decoded"`
	Masked     uint64 `json:"frames_masked"`
	MaskFailed uint64 `json:"frames_mask_failed"`
}

func openAudit(path string, next pipeline.Sink, log *slog.Logger) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w (check --audit's directory exists and is writable)", err)
	}
	return &auditLog{next: next, log: log, f: f, enc: json.NewEncoder(f)}, nil
}

func (a *auditLog) write(r auditRecord) {
	if a == nil {
		return
	}
	r.TS = time.Now().UTC()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.enc.Encode(r); err != nil {
		a.log.Error("audit log write failed", "err", err)
	}
}

// Offer records an event, then hands it on to the MQTT sink.
func (a *auditLog) Offer(m events.Message) bool {
	if e, ok := m.(events.Event); ok {
		a.write(auditRecord{Kind: "event", Event: &e})
	}
	return a.next.Offer(m)
}

func (a *auditLog) config(path string, raw []byte, cfg *configs.Config, reason string, ch pipeline.Changes) {
	if a == nil {
		return
	}
	sum := sha256.Sum256(raw)
	ac := &auditConfig{File: path, SHA256: hex.EncodeToString(sum[:]), Reason: reason,
		Started: ch.Started, Updated: ch.Updated, Replaced: ch.Replaced, Stopped: ch.Stopped, Signage: cfg.Signage}
	for _, c := range cfg.Cameras {
		ac.Cameras = append(ac.Cameras, auditCamera{
			ID: c.ID, URL: redact.URL(c.URL), Enabled: c.IsEnabled(), Zones: c.Zones,
			Detector: auditDetector{Kind: c.Detect.Kind, Model: c.Detect.Model, SHA256: fileSHA256(c.Detect.Model)},
			Restream: c.Restream, Snapshots: c.Snapshots.Enabled, Record: c.Record.Enabled,
		})
	}
	a.write(auditRecord{Kind: "config", Config: ac})
}

// change records a config change made from the console: who, what, and
// the file's hash after it.
func (a *auditLog) change(path string, raw []byte, user, action string) {
	if a == nil {
		return
	}
	sum := sha256.Sum256(raw)
	a.write(auditRecord{Kind: "config_change", Change: &auditChange{File: path, SHA256: hex.EncodeToString(sum[:]), User: user, Action: action}})
}

func (a *auditLog) rejected(err error) {
	a.write(auditRecord{Kind: "config_rejected", Error: err.Error()})
}

func (a *auditLog) masking(id string, c pipeline.Counters) {
	a.write(auditRecord{Kind: "masking", Masking: &auditMasking{Camera: id, Decoded: c.Decoded, Masked: c.Masked, MaskFailed: c.MaskFailed}})
}

func (a *auditLog) Close() error {
	if a == nil {
		return nil
	}
	return a.f.Close()
}

// fileSHA256 names a model file by its content; empty for no file.
func fileSHA256(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unreadable: " + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}
