package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/broker"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/publish"
)

// cmdRun is `edge run --config FILE`: every enabled camera, each its own
// pipeline, events to MQTT. A camera that cannot start is reported and the
// others run on. The config is reloaded on SIGHUP and when the file changes:
// a config that fails validation is never applied (the running one stays),
// and only the cameras whose settings changed are restarted.
func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "", "config `FILE` (YAML)")
	embedded := fs.String("embedded-broker", broker.DefaultAddr, "listen `ADDR` of the embedded MQTT broker, used when mqtt.broker is empty")
	print := fs.Bool("print", false, "also print what is published, as a subscriber sees it")
	audit := fs.String("audit", "", "append config changes, every event produced and masking counts to `FILE` (JSON lines)")
	watchEvery := fs.Duration("watch-config", 2*time.Second, "check the config file for changes this often (0: only on SIGHUP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return &exitError{2, errors.New("usage: edge run --config FILE")}
	}
	if mask.FaultInjected {
		return errors.New("this edge binary was built with -tags maskshift, a deliberately broken privacy mask for testing verify; it must never run cameras: rebuild without the tag")
	}
	// SIGHUP means "reload", never "die", from the first moment on: a reload
	// sent during start-up or shutdown must not cut off a recording.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	raw, cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := slog.Default()

	brokerURL := cfg.MQTT.Broker
	if brokerURL == "" {
		b, err := broker.Start(*embedded)
		if err != nil {
			return fmt.Errorf("mqtt.broker is empty, so the embedded broker was to start on %s: %w (free the port, pass --embedded-broker, or set mqtt.broker)", *embedded, err)
		}
		defer b.Close()
		brokerURL = b.URL()
		log.Info("embedded MQTT broker started (mqtt.broker is empty)", "url", brokerURL)
	}

	pub, err := publish.New(publish.Config{
		Broker: brokerURL, ClientID: cfg.MQTT.ClientID, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		TLS: publish.TLS{CA: cfg.MQTT.TLS.CA, Cert: cfg.MQTT.TLS.Cert, Key: cfg.MQTT.TLS.Key},
		QoS: byte(cfg.MQTT.QoS), TopicPrefix: cfg.MQTT.TopicPrefix, SpoolDir: cfg.MQTT.SpoolDir, Logger: log,
	})
	if err != nil {
		return err
	}

	r := &runner{log: log, sink: pub, cams: map[string]*pipeline.Camera{}, built: map[string]builtOutputs{}}
	if *audit != "" {
		a, err := openAudit(*audit, pub, log)
		if err != nil {
			return err
		}
		defer a.Close()
		r.audit, r.sink = a, a
	}
	if r.outs, err = newOutputs(cfg, log); err != nil {
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	site := pipeline.NewSite(log)
	started, _, _ := site.Apply(runCtx, r.members(cfg))
	if len(started) == 0 {
		return errors.New("no camera could be started (see the errors above); check `edge config check` and `edge probe URL`")
	}
	r.audit.config(*path, raw, cfg, "start", started, nil, nil)

	waitOutputs, err := r.outs.start(runCtx)
	if err != nil {
		stop()
		site.Wait()
		return err
	}
	var wg sync.WaitGroup
	pubDone := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		pubDone <- pub.Run(runCtx, nil)
	}()
	if *print {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watch(runCtx, brokerURL, cfg.MQTT.Username, cfg.MQTT.Password, cfg.MQTT.TopicPrefix, os.Stdout); err != nil {
				log.Error("printing events stopped", "err", err)
			}
		}()
	}
	log.Info("edge running", "site", cfg.Site, "cameras", started)

	r.serve(runCtx, *path, raw, cfg, site, *watchEvery, hup, pubDone)

	// Stop first: recorders finish their files, the publisher says offline.
	stop()
	site.Wait()
	waitOutputs()
	wg.Wait()
	select {
	case err := <-pubDone:
		return err
	default:
		return r.pubErr
	}
}

// runner builds cameras from configs and keeps what must outlive a reload:
// each camera's outputs (restream path, recorder, snapshotter) and sink.
type runner struct {
	log   *slog.Logger
	sink  pipeline.Sink
	audit *auditLog
	outs  *outputs

	pubErr error // why the publisher stopped early, if it did

	mu    sync.Mutex
	cams  map[string]*pipeline.Camera // the running pipeline of each camera id
	built map[string]builtOutputs
}

type builtOutputs struct {
	sink    pipeline.Sink
	outputs []pipeline.Output
}

// serve reloads the config on SIGHUP or when the file changes, and writes the
// masking counts to the audit log every minute, until ctx is done.
// It returns early when the MQTT publisher stops: without it events have
// nowhere to go.
func (r *runner) serve(ctx context.Context, path string, raw []byte, cfg *configs.Config, site *pipeline.Site, every time.Duration, hup <-chan os.Signal, pubDone <-chan error) {
	var poll <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		poll = t.C
	}
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	lastMod := modTime(path)
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
		case <-minute.C:
			r.mu.Lock()
			for id, c := range r.cams {
				r.audit.masking(id, c.Counters())
			}
			r.mu.Unlock()
			continue
		case <-hup:
			r.log.Info("SIGHUP: reloading config", "file", path)
		case <-poll:
			// Reload once the file has changed and then stood still for a
			// poll, so that an editor's half-written save is never read.
			m := modTime(path)
			if m.Equal(lastMod) {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(every / 2):
			}
			if !modTime(path).Equal(m) {
				continue
			}
			lastMod = m
			r.log.Info("config file changed: reloading", "file", path)
		}
		newRaw, next, err := loadConfig(path)
		if err != nil {
			r.log.Error("config reload rejected; the running config stays in force", "file", path, "err", err)
			r.audit.rejected(err)
			continue
		}
		if string(newRaw) == string(raw) {
			continue
		}
		if why := needsRestart(cfg, next); why != "" {
			// Applying half a config would leave the audit log claiming what
			// is not in force (a recording switched off that still records).
			err := fmt.Errorf("config %s changes %s, which a running edge cannot apply: restart edge to apply it (nothing of this change was applied)", path, why)
			r.log.Error("config reload rejected; the running config stays in force", "err", err)
			r.audit.rejected(err)
			raw = newRaw // do not repeat the same rejection every poll
			continue
		}
		started, replaced, stopped := site.Apply(ctx, r.members(next))
		for _, id := range stopped {
			// Replace its retained state, so subscribers do not go on
			// trusting the last one.
			r.sink.Offer(events.State{Camera: id, Status: events.StatusStopped, Reason: "removed from the config", TS: time.Now().UTC()})
			r.mu.Lock()
			delete(r.cams, id)
			r.mu.Unlock()
		}
		r.log.Info("config reloaded", "started", started, "restarted", replaced, "stopped", stopped)
		r.audit.config(path, newRaw, next, "reload", started, replaced, stopped)
		raw, cfg = newRaw, next
	}
}

// members builds a pipeline for every enabled camera of cfg; a camera that
// cannot be built is reported and left out.
func (r *runner) members(cfg *configs.Config) []pipeline.Member {
	var ms []pipeline.Member
	for _, c := range cfg.EnabledCameras() {
		cam, err := r.build(cfg, c)
		if err != nil {
			r.log.Error("camera not started", "camera", c.ID, "err", err)
			continue
		}
		ms = append(ms, pipeline.Member{Camera: cam, Key: cameraKey(cfg, c)})
	}
	return ms
}

func (r *runner) build(cfg *configs.Config, c *configs.Camera) (*pipeline.Camera, error) {
	cc, err := pipeline.FromConfig(cfg, c)
	if err != nil {
		return nil, err
	}
	src, err := ingest.New(ingest.Config{URL: c.URL, Transport: c.Transport, Logger: r.log.With("camera", c.ID)})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	b, ok := r.built[c.ID]
	r.mu.Unlock()
	if !ok {
		// The snapshotter reads the newest masked frame of whichever
		// pipeline runs this camera now.
		id := c.ID
		sink, outs, err := r.outs.camera(c, r.sink, func() *mask.Frame { return r.latest(id) })
		if err != nil {
			return nil, err
		}
		b = builtOutputs{sink: sink, outputs: outs}
		r.mu.Lock()
		r.built[c.ID] = b
		r.mu.Unlock()
	}
	cc.Source, cc.Outputs, cc.Sink, cc.Logger = src, b.outputs, b.sink, r.log
	cc.OnStart = func(cam *pipeline.Camera) { r.setCurrent(cam) }
	return pipeline.NewCamera(cc)
}

func (r *runner) setCurrent(cam *pipeline.Camera) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cams[cam.ID()] = cam
}

func (r *runner) latest(id string) *mask.Frame {
	r.mu.Lock()
	cam := r.cams[id]
	r.mu.Unlock()
	if cam == nil {
		return nil
	}
	return cam.Latest()
}

func loadConfig(path string) ([]byte, *configs.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := configs.Load(path)
	return raw, cfg, err
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// cameraKey fingerprints what a camera's pipeline is built from: its own
// settings and the signs its zones refer to. The site name is in every event.
func cameraKey(cfg *configs.Config, c *configs.Camera) string {
	var signs []configs.Sign
	for _, z := range c.Zones {
		if i := slices.IndexFunc(cfg.Signage, func(s configs.Sign) bool { return s.ID == z.Signage }); i >= 0 {
			signs = append(signs, cfg.Signage[i])
		}
	}
	b, _ := json.Marshal(struct {
		Site  string
		Cam   configs.Camera
		Signs []configs.Sign
	}{cfg.Site, *c, signs})
	return string(b)
}

// needsRestart names the settings a reload cannot apply to a running
// process: the MQTT connection, the restream server, and each camera's masked
// outputs (restream, encoding, snapshots, recording), whose files and paths
// are open. Empty when the change can be applied live.
func needsRestart(old, next *configs.Config) string {
	var why []string
	if !jsonEqual(old.MQTT, next.MQTT) {
		why = append(why, "mqtt")
	}
	if !jsonEqual(old.Restream, next.Restream) {
		why = append(why, "restream")
	}
	outputs := func(c *configs.Camera) []any { return []any{c.Restream, c.Encode, c.Snapshots, c.Record} }
	hasOutputs := func(c *configs.Camera) bool { return c.Restream || c.Snapshots.Enabled || c.Record.Enabled }
	for _, o := range old.EnabledCameras() {
		if n, ok := next.Camera(o.ID); (!ok || !n.IsEnabled()) && hasOutputs(o) {
			// Its restream path, recording and snapshots are open.
			why = append(why, fmt.Sprintf("cameras[%s] (removing a camera with masked outputs)", o.ID))
		}
	}
	for _, n := range next.EnabledCameras() {
		o, ok := old.Camera(n.ID)
		switch {
		case !ok || !o.IsEnabled():
			if hasOutputs(n) {
				why = append(why, fmt.Sprintf("cameras[%s] (a new camera with masked outputs)", n.ID))
			}
		case !jsonEqual(outputs(o), outputs(n)):
			why = append(why, fmt.Sprintf("cameras[%s].restream/encode/snapshots/record", n.ID))
		}
	}
	return strings.Join(why, ", ")
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
