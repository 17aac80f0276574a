package app

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/modelid"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/pipeline"
)

// Audit record kinds written by the app (internal/compliance writes
// sign_status, outputs_gated and alert).
const (
	kindStart          = "start"
	kindStop           = "stop"
	kindConfig         = "config"
	kindConfigRejected = "config_rejected"
	kindCameraRefused  = "camera_refused"
	kindEvent          = "event"
	kindMasking        = "masking"
	kindRecordDeleted  = "retention_deleted"
	kindSnapshotClear  = "snapshot_cleared"
	kindConfigChange   = "config_change"
)

// auditLog writes what inspectors check to the tamper-evident log
// (internal/audit): start and stop, every config applied or rejected (with
// the zone and sign changes), every event produced (before the broker sees
// it), masking counts once a minute, retention deletions. It never holds
// pixels or credentials. A nil *auditLog writes nothing.
type auditLog struct {
	next pipeline.Sink
	log  *slog.Logger
	l    *audit.Log
}

type auditConfig struct {
	File     string   `json:"file"`
	SHA256   string   `json:"sha256"`
	Reason   string   `json:"reason"` // "start" or "reload"
	Started  []string `json:"started,omitempty"`
	Updated  []string `json:"updated,omitempty"` // reconfigured in place, not restarted
	Replaced []string `json:"replaced,omitempty"`
	Stopped  []string `json:"stopped,omitempty"`
	// Outputs are the camera outputs rebuilt behind a running pipeline
	// ("camera/stream", "camera/snapshots").
	Outputs []string       `json:"outputs_rebuilt,omitempty"`
	Changes []string       `json:"changes,omitempty"` // zones and signs added, removed or changed
	Cameras []auditCamera  `json:"cameras"`
	Signage []configs.Sign `json:"signage"`
}

type auditCamera struct {
	ID       string         `json:"id"`
	URL      string         `json:"url"` // redacted
	Enabled  bool           `json:"enabled"`
	Signage  string         `json:"signage,omitempty"`
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
	// Models identifies every model file by content.
	Models []modelid.Model `json:"models,omitempty"`
	// Declaration is the operator's statement for a model edge does not know.
	Declaration *configs.ModelDeclaration `json:"model_declaration,omitempty"`
}

type auditMasking struct {
	Camera     string `json:"camera"`
	Decoded    uint64 `json:"frames_decoded"`
	Masked     uint64 `json:"frames_masked"`
	MaskFailed uint64 `json:"frames_mask_failed"`
}

// openAudit opens the chained log in dir, signing checkpoints with the
// device key at keyPath (created on first use; "" for the default place).
func openAudit(dir string, maxBytes int64, keyPath string, next pipeline.Sink, log *slog.Logger) (*auditLog, error) {
	if keyPath == "" {
		p, err := devicekey.DefaultPath()
		if err != nil {
			return nil, err
		}
		keyPath = p
	}
	key, created, err := devicekey.LoadOrCreate(keyPath)
	if err != nil {
		return nil, fmt.Errorf("audit log needs the device key: %w", err)
	}
	if created {
		log.Info("device key created for signing audit checkpoints", "path", keyPath, "fingerprint", key.Fingerprint())
	}
	l, err := audit.Open(audit.Config{Dir: dir, MaxBytes: maxBytes, Key: key})
	if err != nil {
		return nil, fmt.Errorf("%w (audit.dir in the config, or --audit)", err)
	}
	return &auditLog{next: next, log: log, l: l}, nil
}

// Write implements compliance.Auditor.
func (a *auditLog) Write(kind string, data any) error {
	if a == nil {
		return nil
	}
	return a.l.Write(kind, data)
}

func (a *auditLog) write(kind string, data any) {
	if err := a.Write(kind, data); err != nil {
		a.log.Error("audit log write failed", "kind", kind, "err", err)
	}
}

func (a *auditLog) checkpoint(reason string) {
	if a == nil {
		return
	}
	if err := a.l.Checkpoint(reason); err != nil {
		a.log.Error("audit checkpoint failed", "reason", reason, "err", err)
	}
}

// Offer records an event, then hands it on to the MQTT sink.
func (a *auditLog) Offer(m events.Message) bool {
	if e, ok := m.(events.Event); ok {
		a.write(kindEvent, e)
	}
	return a.next.Offer(m)
}

func (a *auditLog) config(path string, raw []byte, prev, cfg *configs.Config, reason string, ch pipeline.Changes, outputs []string) {
	if a == nil {
		return
	}
	sum := sha256.Sum256(raw)
	ac := &auditConfig{File: path, SHA256: hex.EncodeToString(sum[:]), Reason: reason,
		Started: ch.Started, Updated: ch.Updated, Replaced: ch.Replaced, Stopped: ch.Stopped, Outputs: outputs, Changes: configChanges(prev, cfg), Signage: cfg.Signage}
	for _, c := range cfg.Cameras {
		ac.Cameras = append(ac.Cameras, auditCamera{
			ID: c.ID, URL: redact.URL(c.URL), Enabled: c.IsEnabled(), Signage: c.Signage, Zones: c.Zones,
			Detector: auditDetector{Kind: c.Detect.Kind, Model: c.Detect.Model, SHA256: fileSHA256(c.Detect.Model),
				Models: c.Detect.Models(), Declaration: c.Detect.ModelDeclaration},
			Restream: c.Restream, Snapshots: c.Snapshots.Enabled, Record: c.Record.Enabled,
		})
	}
	a.write(kindConfig, ac)
}

// problems lists a load error's problems one per entry.
func problems(err error) []string {
	var ve *configs.ValidationError
	var de *configs.DecodeError
	switch {
	case errors.As(err, &ve):
		out := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			out[i] = p.String()
		}
		return out
	case errors.As(err, &de):
		return de.Problems
	}
	return []string{err.Error()}
}

// change records a config change made from the console: who, what, and
// the file's hash after it.
func (a *auditLog) change(path string, raw []byte, user, action string) {
	sum := sha256.Sum256(raw)
	a.write(kindConfigChange, struct {
		File   string `json:"file"`
		SHA256 string `json:"sha256"` // of the file after the change
		User   string `json:"user"`
		Action string `json:"action"`
	}{path, hex.EncodeToString(sum[:]), user, action})
}

func (a *auditLog) rejected(err error) {
	a.write(kindConfigRejected, struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}{err.Error(), problems(err)})
}

func (a *auditLog) masking(id string, c pipeline.Counters) {
	a.write(kindMasking, auditMasking{Camera: id, Decoded: c.Decoded, Masked: c.Masked, MaskFailed: c.MaskFailed})
}

// Close writes the stop record and its signed checkpoint, then closes.
func (a *auditLog) Close() error {
	if a == nil {
		return nil
	}
	a.write(kindStop, struct {
		PID int `json:"pid"`
	}{os.Getpid()})
	a.checkpoint(audit.ReasonStop)
	return a.l.Close()
}

// configChanges names the zones, signs and camera signs that differ
// between prev and next ("zone cameras[a].zones[door] changed"); nil prev
// means everything is new.
func configChanges(prev, next *configs.Config) []string {
	if prev == nil {
		return nil
	}
	var out []string
	diff := func(what string, a, b any, hadA, hasB bool) {
		switch {
		case hadA && !hasB:
			out = append(out, what+" removed")
		case !hadA && hasB:
			out = append(out, what+" added")
		case hadA && hasB && !reflect.DeepEqual(a, b):
			out = append(out, what+" changed")
		}
	}
	signs := func(c *configs.Config) map[string]configs.Sign {
		m := map[string]configs.Sign{}
		for _, s := range c.Signage {
			m[s.ID] = s
		}
		return m
	}
	ps, ns := signs(prev), signs(next)
	for id, s := range ps {
		n, ok := ns[id]
		diff("sign "+id, s, n, true, ok)
	}
	for id, s := range ns {
		if _, ok := ps[id]; !ok {
			diff("sign "+id, nil, s, false, true)
		}
	}
	cams := map[string]bool{}
	for _, c := range append(append([]configs.Camera{}, prev.Cameras...), next.Cameras...) {
		cams[c.ID] = true
	}
	for id := range cams {
		pc, pok := prev.Camera(id)
		nc, nok := next.Camera(id)
		zonesOf := func(c *configs.Camera, ok bool) map[string]configs.Zone {
			m := map[string]configs.Zone{}
			if ok {
				for _, z := range c.Zones {
					m[z.ID] = z
				}
			}
			return m
		}
		pz, nz := zonesOf(pc, pok), zonesOf(nc, nok)
		for zid, z := range pz {
			n, ok := nz[zid]
			diff("zone cameras["+id+"].zones["+zid+"]", z, n, true, ok)
		}
		for zid, z := range nz {
			if _, ok := pz[zid]; !ok {
				diff("zone cameras["+id+"].zones["+zid+"]", nil, z, false, true)
			}
		}
		if pok && nok && pc.Signage != nc.Signage {
			out = append(out, fmt.Sprintf("camera sign of cameras[%s] changed from %q to %q", id, pc.Signage, nc.Signage))
		}
	}
	slices.Sort(out)
	return out
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

func sinceSeconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }
