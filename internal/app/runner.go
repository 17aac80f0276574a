package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/metrics"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/publish"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// runner builds cameras from configs and keeps what must outlive a reload:
// each camera's outputs (restream path, recorder, snapshotter) and sink.
type runner struct {
	log   *slog.Logger
	sink  pipeline.Sink
	audit *auditLog
	mon   *compliance.Monitor // gates image outputs; alerts
	outs  *outputs

	pubErr error // why the publisher stopped early, if it did

	prefix    string             // the MQTT topic prefix, for discovery configs
	discovery []events.Discovery // the Home Assistant configs last announced
	site      *pipeline.Site
	httpAddr  string // --http, replacing http.addr of every config loaded
	onCamera  func(*pipeline.Camera)
	metrics   *metrics.Metrics
	pool      *detect.Pool           // the box's detector workers, shared by every camera
	mqtt      func() publish.Stats   // the MQTT publisher's counters
	inForce   atomic.Pointer[loaded] // a copy of the config in force, for readers on other goroutines
	applying  atomic.Pointer[loaded] // the config a reload is applying, until it is in force
	running   atomic.Bool            // cameras started, for /readyz
	changes   chan changeReq         // console edits, applied by serve
	// maskingEvery is how often serve writes each camera's masking counts
	// to the audit log: a minute (tests shorten it).
	maskingEvery time.Duration

	mu    sync.Mutex
	cams  map[string]*pipeline.Camera // the running pipeline of each camera id
	built map[string]builtOutputs
}

type builtOutputs struct {
	sink    pipeline.Sink
	outputs []pipeline.Output
	latest  *snapshot.Latest // the snapshot output: the camera's newest masked frame
}

// loaded is the config in force and the file it came from.
type loaded struct {
	path string
	raw  []byte
	cfg  *configs.Config
}

func newRunner(log *slog.Logger, sink pipeline.Sink) *runner {
	return &runner{log: log, sink: sink, cams: map[string]*pipeline.Camera{}, built: map[string]builtOutputs{},
		changes: make(chan changeReq), maskingEvery: time.Minute}
}

// serve reloads the config when asked or when the file changes, and writes the
// masking counts to the audit log every minute, until ctx is done.
// It returns early when the MQTT publisher stops: without it events have
// nowhere to go.
func (r *runner) serve(ctx context.Context, cur *loaded, every time.Duration, reload <-chan os.Signal, pubDone <-chan error) {
	r.publish(cur)
	var poll <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		poll = t.C
	}
	masking := time.NewTicker(r.maskingEvery)
	defer masking.Stop()
	lastMod := modTime(cur.path)
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-pubDone:
			if err == nil {
				err = errors.New("mqtt publisher stopped")
			}
			r.pubErr = err
			r.log.Error("mqtt publisher stopped; stopping edge, since events would be lost", "err", err)
			return
		case <-masking.C:
			r.mu.Lock()
			for id, c := range r.cams {
				r.audit.masking(id, c.Counters())
			}
			r.mu.Unlock()
			continue
		case req := <-r.changes:
			req.reply <- r.applyChange(ctx, cur, req)
			continue
		case <-reload:
			r.log.Info("SIGHUP: reloading config", "file", cur.path)
		case <-poll:
			// Reload once the file has changed and then stood still for a
			// poll, so that an editor's half-written save is never read.
			m := modTime(cur.path)
			if m.Equal(lastMod) {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(every / 2):
			}
			if !modTime(cur.path).Equal(m) {
				continue
			}
			lastMod = m
			r.log.Info("config file changed: reloading", "file", cur.path)
		}
		r.reload(ctx, cur)
	}
}

// publish makes a copy of cur the config other goroutines read.
func (r *runner) publish(cur *loaded) {
	c := *cur
	r.inForce.Store(&c)
}

// reload reads cur's file again and applies it to site when it is valid,
// changed, and changes nothing a running process cannot apply; cur then
// holds it. A rejected config is logged and audited, and nothing of it applied.
func (r *runner) reload(ctx context.Context, cur *loaded) {
	newRaw, next, err := r.load(ctx, cur.path)
	if err != nil {
		r.log.Error("config reload rejected; the running config stays in force", "file", cur.path, "err", err)
		r.audit.rejected(err)
		r.alert(events.Alert{Type: events.AlertReloadRejected, Message: "config reload rejected; the running config stays in force: fix the problems and save again", Errors: problems(err)})
		return
	}
	if string(newRaw) == string(cur.raw) {
		r.log.Info("config unchanged; nothing to apply", "file", cur.path)
		return
	}
	if why := needsRestart(cur.cfg, next); why != "" {
		// Applying half a config would leave the audit log claiming what
		// is not in force (a recording switched off that still records).
		err := fmt.Errorf("config %s changes %s, which a running edge cannot apply: restart edge to apply it (nothing of this change was applied)", cur.path, why)
		r.log.Error("config reload rejected; the running config stays in force", "err", err)
		r.audit.rejected(err)
		r.alert(events.Alert{Type: events.AlertReloadRejected, Message: err.Error(), Errors: []string{err.Error()}})
		cur.raw = newRaw // do not repeat the same rejection every poll
		return
	}
	ms, err := r.members(ctx, next)
	if err != nil {
		r.log.Warn("config reload abandoned", "err", err)
		return
	}
	var rebuilt []string
	if r.outs != nil {
		// Output settings apply behind the running pipelines; an output that
		// cannot be built rejects the whole reload before anything changes.
		if rebuilt, err = r.outs.reconfigure(next); err != nil {
			err = fmt.Errorf("config %s: %w (nothing of this change was applied)", cur.path, err)
			r.log.Error("config reload rejected; the running config stays in force", "err", err)
			r.audit.rejected(err)
			r.alert(events.Alert{Type: events.AlertReloadRejected, Message: err.Error(), Errors: []string{err.Error()}})
			cur.raw = newRaw
			return
		}
	}
	// A recording segment cut by a privacy change may start before this
	// reload is in force: it names this config (recordingOrigin).
	r.applying.Store(&loaded{path: cur.path, raw: newRaw, cfg: next})
	defer r.applying.Store(nil)
	ch := r.site.Apply(ctx, ms)
	for _, id := range ch.Replaced {
		// A camera restarted under other privacy zones: what its restream
		// queued to viewers under the old ones is discarded before the
		// reload is acknowledged, as for a change applied in place.
		if privacyChanged(cur.cfg, next, id) && r.outs != nil {
			r.outs.disconnectViewers(id)
		}
	}
	for _, id := range ch.Stopped {
		// Replace its retained state, so subscribers do not go on
		// trusting the last one.
		r.sink.Offer(events.State{Camera: id, Status: events.StatusStopped, Reason: "removed from the config", TS: time.Now().UTC()})
		r.mu.Lock()
		delete(r.cams, id)
		r.mu.Unlock()
	}
	r.announce(next)
	r.log.Info("config reloaded", "started", ch.Started, "updated_in_place", ch.Updated, "restarted", ch.Replaced, "stopped", ch.Stopped, "outputs_rebuilt", rebuilt)
	r.audit.config(cur.path, newRaw, cur.cfg, next, "reload", ch, rebuilt)
	if r.mon != nil {
		r.mon.Apply(next) // a renewed sign reopens outputs here
	}
	r.alert(events.Alert{Type: events.AlertReloadAccepted, Message: fmt.Sprintf("config reloaded: started %v, updated in place %v, restarted %v, stopped %v, outputs rebuilt %v", ch.Started, ch.Updated, ch.Replaced, ch.Stopped, rebuilt)})
	cur.raw, cur.cfg = newRaw, next
	r.publish(cur)
}

// members builds a pipeline for every enabled camera of cfg; a camera that
// cannot be built is reported and left out. Building checks every polygon
// again, a second or so per camera with large zones: once ctx is done
// (SIGTERM) it stops and returns an error saying how far it got.
func (r *runner) members(ctx context.Context, cfg *configs.Config) ([]pipeline.Member, error) {
	var ms []pipeline.Member
	cams := cfg.EnabledCameras()
	for i, c := range cams {
		stop := func() error {
			return fmt.Errorf("%w: stopped while building cameras (%d of %d built): %w", configs.ErrStopped, i, len(cams), context.Cause(ctx))
		}
		if ctx.Err() != nil {
			return nil, stop()
		}
		cam, err := r.build(ctx, cfg, c)
		if errors.Is(err, configs.ErrStopped) {
			return nil, stop()
		}
		if err != nil {
			r.log.Error("camera not started", "camera", c.ID, "err", err)
			r.audit.write(kindCameraRefused, struct {
				Camera string `json:"camera"`
				Error  string `json:"error"`
			}{c.ID, err.Error()})
			// The site is named here: at start the monitor has no config yet.
			r.alert(events.Alert{Type: events.AlertCameraRefused, Site: cfg.Site, Camera: c.ID, Message: "camera not started: " + err.Error()})
			continue
		}
		ms = append(ms, pipeline.Member{Camera: cam, Key: cameraKey(cfg, c), RestartKey: restartKey(cfg, c)})
	}
	return ms, nil
}

func (r *runner) build(ctx context.Context, cfg *configs.Config, c *configs.Camera) (*pipeline.Camera, error) {
	cc, err := pipeline.FromConfigContext(ctx, cfg, c)
	if err != nil {
		return nil, err
	}
	src, err := ingest.New(pipeline.IngestConfig(c, r.log))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	b, ok := r.built[c.ID]
	r.mu.Unlock()
	if !ok {
		// Outputs outlive a restart of the camera: whichever pipeline runs
		// it now offers them its frames.
		var err error
		if b, err = r.outs.camera(c, r.sink); err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.built[c.ID] = b
		r.mu.Unlock()
	}
	cc.Source, cc.Outputs, cc.Sink, cc.Logger = src, b.outputs, b.sink, r.log
	cc.DetectPool = r.pool
	cc.OnStart = func(cam *pipeline.Camera) {
		r.setCurrent(cam)
		if r.onCamera != nil {
			r.onCamera(cam)
		}
	}
	if r.metrics != nil {
		cc.ObserveStage = r.metrics.ObserveStage
	}
	return pipeline.NewCamera(cc)
}

// alert publishes a through the monitor (which audits it); without a
// monitor (tests of the runner alone) it goes to the sink.
func (r *runner) alert(a events.Alert) {
	if r.mon != nil {
		r.mon.Alert(a)
		return
	}
	a.ID, a.TS = events.NewID(), time.Now().UTC()
	r.sink.Offer(a)
}

func (r *runner) setCurrent(cam *pipeline.Camera) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cams[cam.ID()] = cam
}

// latest is a reference to camera id's newest masked frame, from its
// snapshot output, or nil. The caller closes it.
func (r *runner) latest(id string) *mask.Frame {
	r.mu.Lock()
	b, ok := r.built[id]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	return b.latest.Frame()
}

func loadConfig(ctx context.Context, path string) ([]byte, *configs.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := configs.LoadContext(ctx, path)
	return raw, cfg, err
}

// load is loadConfig with the command line's overrides applied and checked.
func (r *runner) load(ctx context.Context, path string) ([]byte, *configs.Config, error) {
	raw, cfg, err := loadConfig(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	if err := r.override(cfg); err != nil {
		return nil, nil, fmt.Errorf("config %s with --http %s: %w", path, r.httpAddr, err)
	}
	return raw, cfg, nil
}

// override applies --http to cfg, under the same rules as the file's value.
func (r *runner) override(cfg *configs.Config) error {
	if r.httpAddr == "" {
		return nil
	}
	cfg.HTTP.Addr = r.httpAddr
	return cfg.Validate()
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// privacyChanged reports whether camera id's privacy zones differ between
// two configs holding it.
func privacyChanged(prev, next *configs.Config, id string) bool {
	pc, pok := prev.Camera(id)
	nc, nok := next.Camera(id)
	return pok && nok && pc.PrivacyFingerprint() != nc.PrivacyFingerprint()
}
