package compliance

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/flow"
	"github.com/edgeprivacy/edge/zones"
)

// Auditor takes audit records (internal/audit.Log).
type Auditor interface {
	Write(kind string, data any) error
}

// Sink takes MQTT messages without blocking (pipeline.Sink).
type Sink interface {
	Offer(m events.Message) bool
}

// Audit record kinds written by the Monitor.
const (
	KindSignStatus   = "sign_status"
	KindOutputsGated = "outputs_gated"
	KindAlert        = "alert"
)

// Config configures a Monitor.
type Config struct {
	// Sink receives compliance states and alerts. Required.
	Sink Sink
	// Audit receives sign status changes, gating and alerts; nil for none.
	Audit Auditor
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Monitor keeps every camera's outputs in line with its sign.
type Monitor struct {
	cfg Config
	log *slog.Logger

	// flushMu is held while the queued audit records are written, outside
	// mu: a slow or stuck audit log (another process holding audit.lock)
	// must never delay a gate or block Register and reloads.
	flushMu sync.Mutex

	mu      sync.Mutex
	pending []record // audit records not yet written, in order
	dropped int      // records dropped since the queue was last full
	conf    *configs.Config
	cams    map[string]*camera
	signs   map[string]string // sign id -> last lifecycle seen
	publish map[string]events.Compliance
}

// record is an audit record queued under mu and written after it.
type record struct {
	kind string
	data any
}

// maxPending bounds the audit queue while the log is stuck.
const maxPending = 1024

type camera struct {
	gate    Gate
	outputs map[string]Pausable // by output name
	known   bool                // gate decided at least once
}

// New returns a Monitor with no config yet: every gate is closed.
func New(cfg Config) *Monitor {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Monitor{cfg: cfg, log: cfg.Logger, cams: map[string]*camera{}, signs: map[string]string{}, publish: map[string]events.Compliance{}}
}

// Register records a camera's pausable outputs (by name: "restream",
// "record", "snapshots") and returns its gate, closed until the camera's
// sign is seen valid. Registering again adds outputs to the same gate.
func (m *Monitor) Register(cameraID string, outputs map[string]Pausable) *Gate {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.camera(cameraID)
	for name, o := range outputs {
		c.outputs[name] = o
		o.Pause() // closed until decided
	}
	c.known = false
	return &c.gate
}

// Gate returns the camera's gate (the one Register returns), for an output
// that asks it per picture rather than being paused.
func (m *Monitor) Gate(cameraID string) *Gate {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &m.camera(cameraID).gate
}

func (m *Monitor) camera(id string) *camera {
	c := m.cams[id]
	if c == nil {
		c = &camera{outputs: map[string]Pausable{}}
		c.gate.now = m.cfg.Now
		m.cams[id] = c
	}
	return c
}

// Apply puts cfg in force and checks it at once.
func (m *Monitor) Apply(cfg *configs.Config) {
	m.mu.Lock()
	m.conf = cfg
	m.mu.Unlock()
	m.Check()
}

// Run checks every second until ctx is done.
func (m *Monitor) Run(ctx context.Context) {
	flow.Every(ctx, time.Second, m.Check)
}

// Alert publishes a and writes it to the audit log. a.Site defaults to the
// site of the config in force (none before the first Apply).
func (m *Monitor) Alert(a events.Alert) {
	m.mu.Lock()
	site := a.Site
	if m.conf != nil && site == "" {
		site = m.conf.Site
	}
	m.alert(site, a)
	m.mu.Unlock()
	m.flush()
}

func (m *Monitor) alert(site string, a events.Alert) {
	a.ID, a.Site = events.NewID(), site
	if a.TS.IsZero() {
		a.TS = m.cfg.Now().UTC()
	}
	m.audit(KindAlert, a)
	if !m.cfg.Sink.Offer(a) {
		m.log.Warn("alert not queued for MQTT", "type", a.Type)
	}
}

// audit queues a record for flush. Call with mu held.
func (m *Monitor) audit(kind string, data any) {
	if m.cfg.Audit == nil {
		return
	}
	if len(m.pending) >= maxPending {
		m.dropped++
		return
	}
	m.pending = append(m.pending, record{kind, data})
}

// flush writes the queued audit records in order. Call without mu: the
// gates have already acted, so a failed write is logged and alerted but
// never holds an output open.
func (m *Monitor) flush() {
	if m.cfg.Audit == nil {
		return
	}
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	for {
		m.mu.Lock()
		batch, dropped := m.pending, m.dropped
		m.pending, m.dropped = nil, 0
		m.mu.Unlock()
		if dropped > 0 {
			m.log.Error("audit records dropped: the audit log did not keep up", "dropped", dropped)
		}
		if len(batch) == 0 {
			return
		}
		var failed int
		var first error
		for _, r := range batch {
			if err := m.cfg.Audit.Write(r.kind, r.data); err != nil {
				m.log.Error("audit record not written", "kind", r.kind, "err", err)
				if failed++; first == nil {
					first = err
				}
			}
		}
		if failed > 0 {
			m.auditFailed(failed, first)
		}
	}
}

// auditFailed alerts, without an audit record of its own (that would fail
// too), that records were lost.
func (m *Monitor) auditFailed(n int, err error) {
	m.mu.Lock()
	site := ""
	if m.conf != nil {
		site = m.conf.Site
	}
	m.mu.Unlock()
	a := events.Alert{ID: events.NewID(), Type: events.AlertAuditFailed, Site: site, TS: m.cfg.Now().UTC(),
		Message: fmt.Sprintf("%d audit record(s) not written (image outputs were still gated as the signs require): %v", n, err)}
	if !m.cfg.Sink.Offer(a) {
		m.log.Warn("alert not queued for MQTT", "type", a.Type)
	}
}

// signChange is the audit record of a sign's new lifecycle.
type signChange struct {
	Sign      string    `json:"sign"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedBy    []string  `json:"used_by,omitempty"`
}

// gating is the audit record of a camera's outputs going off or on.
type gating struct {
	Camera  string   `json:"camera"`
	Outputs []string `json:"outputs"`
	Active  bool     `json:"active"`
	Reason  string   `json:"reason,omitempty"`
}

// Check evaluates every sign at the current time and acts on changes: it
// gates the outputs first and writes the audit records after, outside mu.
func (m *Monitor) Check() {
	m.check()
	m.flush()
}

func (m *Monitor) check() {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg := m.conf
	if cfg == nil {
		return
	}
	now := m.cfg.Now()
	states := map[string]configs.SignState{}
	for _, s := range cfg.SignStates(now, configs.SignExpiryAlert) {
		states[s.ID] = s
		last, seen := m.signs[s.ID]
		if seen && last == s.Lifecycle {
			continue
		}
		m.signs[s.ID] = s.Lifecycle
		m.audit(KindSignStatus, signChange{Sign: s.ID, From: last, To: s.Lifecycle, ExpiresAt: s.Expires, UsedBy: s.UsedBy})
		if len(s.UsedBy) == 0 {
			continue
		}
		switch s.Lifecycle {
		case configs.LifecycleExpired:
			m.alert(cfg.Site, events.Alert{Type: events.AlertSignExpired, Sign: s.ID,
				Message: fmt.Sprintf("sign %s expired at %s: %v are off until it is verified in place again and the config reloaded with a new expires_at",
					s.ID, s.Expires.UTC().Format(time.RFC3339), s.UsedBy)})
		case configs.LifecyclePending:
			// A sign put up ahead of time is not an error, but what it
			// gates stays off: say so rather than leave an operator guessing.
			m.alert(cfg.Site, events.Alert{Type: events.AlertSignPending, Sign: s.ID,
				Message: fmt.Sprintf("sign %s is not valid before %s (verified_at): %v stay off until then",
					s.ID, s.Verified.UTC().Format(time.RFC3339), s.UsedBy)})
		case configs.LifecycleExpiring:
			m.alert(cfg.Site, events.Alert{Type: events.AlertSignExpiring, Sign: s.ID,
				Message: fmt.Sprintf("sign %s expires at %s (within 7 days): verify it in place and renew expires_at, or %v stop",
					s.ID, s.Expires.UTC().Format(time.RFC3339), s.UsedBy)})
		}
	}
	for id := range m.signs {
		if _, ok := states[id]; !ok {
			delete(m.signs, id) // removed from the register
		}
	}

	running := map[string]bool{}
	for _, c := range cfg.EnabledCameras() {
		running[c.ID] = true
		comp := m.compliance(c, states, now)
		m.gate(c, comp)
		key := comp
		key.TS = time.Time{}
		if last, ok := m.publish[c.ID]; ok && reflect.DeepEqual(last, key) {
			continue
		}
		m.publish[c.ID] = key
		if !m.cfg.Sink.Offer(comp) {
			delete(m.publish, c.ID) // try again next check
		}
	}
	for id, c := range m.cams {
		if !running[id] && c.gate.open.Load() {
			// A camera switched off keeps no image output running.
			m.setGate(id, c, false, "camera removed or disabled", nil)
		}
	}
	for id := range m.publish {
		if !running[id] {
			delete(m.publish, id)
		}
	}
}

// compliance builds the camera's status at now.
func (m *Monitor) compliance(c *configs.Camera, states map[string]configs.SignState, now time.Time) events.Compliance {
	comp := events.Compliance{Camera: c.ID, Outputs: []events.OutputStatus{}, Zones: []events.ZoneCompliance{}, TS: now.UTC()}
	var allowed bool
	var reason string
	allowed, reason, comp.Sign = cameraSign(c, states)
	for _, name := range c.ImageOutputs() {
		o := events.OutputStatus{Name: name, Active: allowed}
		if !allowed {
			o.Reason = reason
		}
		comp.Outputs = append(comp.Outputs, o)
	}
	for _, z := range c.Zones {
		if zones.Kind(z.Kind) != zones.Monitored {
			continue
		}
		st, ok := states[z.Signage]
		zc := events.ZoneCompliance{ID: z.ID, Sign: events.SignStatus{ID: z.Signage, Status: "missing"}}
		if ok {
			zc.Sign = events.SignStatus{ID: st.ID, Status: st.Lifecycle, Purpose: st.Purpose, ExpiresAt: st.Expires.UTC()}
			zc.Analysed = st.Valid()
		}
		comp.Zones = append(comp.Zones, zc)
	}
	return comp
}

// cameraSign is the rule for every picture of a camera: allowed only while
// the camera's own registered sign is valid; reason says why not.
func cameraSign(c *configs.Camera, states map[string]configs.SignState) (allowed bool, reason string, ss *events.SignStatus) {
	if c.Signage == "" {
		return false, "the camera has no sign: set cameras[" + c.ID + "].signage", nil
	}
	st, ok := states[c.Signage]
	ss = &events.SignStatus{ID: c.Signage, Status: "missing"}
	if ok {
		ss = &events.SignStatus{ID: st.ID, Status: st.Lifecycle, Purpose: st.Purpose, ExpiresAt: st.Expires.UTC()}
	}
	switch {
	case !ok:
		return false, "camera sign " + c.Signage + " is not registered", ss
	case st.Valid():
		return true, "", ss
	case st.Lifecycle == configs.LifecycleExpired:
		return false, fmt.Sprintf("camera sign %s expired at %s: renew it (verify it in place, update expires_at) and reload", st.ID, st.Expires.UTC().Format(time.RFC3339)), ss
	default:
		return false, fmt.Sprintf("camera sign %s is not valid before %s", st.ID, st.Verified.UTC().Format(time.RFC3339)), ss
	}
}

// ImagesAllowed reports whether a picture of the camera may leave the box
// now (the operator console's view): the camera's sign must be valid, by the
// rule that gates its restream, recordings and snapshots. It fails closed
// before the first config and for an unknown or disabled camera.
func (m *Monitor) ImagesAllowed(cameraID string) (bool, string) {
	m.mu.Lock()
	cfg := m.conf
	m.mu.Unlock()
	if cfg == nil {
		return false, "no config in force yet"
	}
	c, ok := cfg.Camera(cameraID)
	if !ok || !c.IsEnabled() {
		return false, "camera " + cameraID + " is not running"
	}
	states := map[string]configs.SignState{}
	for _, s := range cfg.SignStates(m.cfg.Now(), configs.SignExpiryAlert) {
		states[s.ID] = s
	}
	allowed, reason, _ := cameraSign(c, states)
	return allowed, reason
}

// gate opens or closes the camera's outputs to match comp.
func (m *Monitor) gate(c *configs.Camera, comp events.Compliance) {
	cam := m.cams[c.ID]
	if cam == nil {
		return // no image outputs built for it
	}
	allowed, reason := true, ""
	for _, o := range comp.Outputs {
		if !o.Active {
			allowed, reason = false, o.Reason
		}
	}
	if len(comp.Outputs) == 0 {
		allowed, reason = false, "no image output is switched on"
	}
	if allowed && comp.Sign != nil {
		// Renewals move it too, before the early return below.
		cam.gate.expireAt(comp.Sign.ExpiresAt)
	}
	// The flag, not Open: a gate past its expiry drops frames by itself,
	// but its outputs still have to be paused and the change audited.
	if cam.known && cam.gate.open.Load() == allowed {
		return
	}
	m.setGate(c.ID, cam, allowed, reason, c.ImageOutputs())
}

func (m *Monitor) setGate(id string, cam *camera, open bool, reason string, outs []string) {
	cam.known = true
	cam.gate.open.Store(open)
	names := make([]string, 0, len(cam.outputs))
	for name, o := range cam.outputs {
		if open {
			o.Resume()
		} else {
			o.Pause()
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if outs == nil {
		outs = names
	}
	m.audit(KindOutputsGated, gating{Camera: id, Outputs: outs, Active: open, Reason: reason})
	if open {
		m.log.Info("image outputs on: camera sign valid", "camera", id, "outputs", outs)
	} else {
		m.log.Warn("image outputs gated off", "camera", id, "outputs", outs, "reason", reason)
	}
}
