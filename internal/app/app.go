// Package app is the `edge run` application: it starts every enabled camera's
// pipeline with its masked outputs and the MQTT publisher, reloads the config
// on request or when the file changes (applying only what a running process
// can apply), and keeps the audit log. cmd/edge only parses flags and calls Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	goruntime "runtime"
	"sync"
	"syscall"
	"time"

	"github.com/edgeprivacy/edge/internal/audit"
	"github.com/edgeprivacy/edge/internal/broker"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/console"
	"github.com/edgeprivacy/edge/internal/hass"
	"github.com/edgeprivacy/edge/internal/metrics"
	"github.com/edgeprivacy/edge/internal/watch"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/publish"
)

// Options are the settings of one `edge run`.
type Options struct {
	// ConfigPath is the YAML config file. Required.
	ConfigPath string
	// EmbeddedBroker is the listen address of the embedded MQTT broker, used
	// when the config's mqtt.broker is empty. It defaults to broker.DefaultAddr.
	EmbeddedBroker string
	// Print, when set, receives each event published, one line each, as a
	// subscriber sees it, and nothing else (edge watch shows every message).
	Print io.Writer
	// AuditDir, when set, replaces the config's audit.dir: the folder of the
	// tamper-evident audit log, which is always kept.
	AuditDir string
	// KeyPath is the device key that signs audit checkpoints; empty means
	// devicekey.DefaultPath. It is created on first use.
	KeyPath string
	// WatchEvery is how often the config file is checked for changes; 0
	// reloads only on Reload.
	WatchEvery time.Duration
	// Reload asks for a config reload with every value received (SIGHUP).
	Reload <-chan os.Signal
	// HTTPAddr, when set, replaces http.addr of the config ("off": no HTTP
	// server); the same rules apply to it.
	HTTPAddr string
	// Build is the edge version, reported in the MQTT heartbeat and written
	// to the audit log at start.
	Build string
	// OnCamera, when set, is called each time a camera's pipeline starts or
	// restarts (edge bench reads its Stats). It must return at once.
	OnCamera func(*pipeline.Camera)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Run runs every enabled camera of the config until ctx is done or the MQTT
// publisher stops. A camera that cannot start is reported and the others run
// on. A config that fails validation is never applied (the running one
// stays), and only the cameras whose settings changed are restarted.
func Run(ctx context.Context, o Options) error {
	if o.ConfigPath == "" {
		return errors.New("app: no config file given (edge run --config FILE)")
	}
	if mask.FaultInjected {
		return errors.New("this edge binary was built with -tags maskshift, a deliberately broken privacy mask for testing verify; it must never run cameras: rebuild without the tag")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	r := newRunner(log, nil)
	r.httpAddr = o.HTTPAddr
	r.onCamera = o.OnCamera
	raw, cfg, err := r.load(ctx, o.ConfigPath)
	if err != nil {
		return err
	}
	// One detector pool for the box, sized once: detect_pool.workers is
	// read at start (a reload does not resize it).
	if r.pool, err = detect.NewPool(cfg.DetectPool.Workers); err != nil {
		return err
	}
	r.pool.Start()
	defer r.pool.Close()
	log.Info("detector pool started", "workers", r.pool.Workers())

	brokers := cfg.MQTT.BrokerList()
	if len(brokers) == 0 {
		addr := o.EmbeddedBroker
		if addr == "" {
			addr = broker.DefaultAddr
		}
		b, err := broker.Start(addr)
		if err != nil {
			return fmt.Errorf("mqtt.broker is empty, so the embedded broker was to start on %s: %w (free the port, pass --embedded-broker, or set mqtt.broker)", addr, err)
		}
		defer b.Close()
		brokers = []string{b.URL()}
		log.Info("embedded MQTT broker started (mqtt.broker is empty)", "url", b.URL())
	}

	pub, err := publish.New(pipeline.PublishConfig(cfg, brokers, hass.Owned(cfg, cfg.Topics()), o.Build, log))
	if err != nil {
		return err
	}

	r.sink = pub
	r.prefix = cfg.Topics()
	r.mqtt = pub.Stats
	auditDir := cfg.Audit.Dir
	if o.AuditDir != "" {
		auditDir = o.AuditDir
	}
	a, err := openAudit(auditDir, cfg.Audit.MaxBytes, o.KeyPath, pub, log)
	if err != nil {
		return err
	}
	defer a.Close() // the stop record and checkpoint, after everything has stopped
	a.write(kindStart, struct {
		Version string `json:"version"`
		Go      string `json:"go"`
		PID     int    `json:"pid"`
		Config  string `json:"config"`
	}{o.Build, goruntime.Version(), os.Getpid(), o.ConfigPath})
	a.checkpoint(audit.ReasonStart)
	r.audit, r.sink = a, a
	r.mon = compliance.New(compliance.Config{Sink: pub, Audit: a, Logger: log})
	// Events pass the metrics and the console's live list on their way to
	// the audit log and MQTT.
	recent := console.NewEvents(1000)
	r.metrics = metrics.New(r)
	r.sink = r.metrics.Sink(recent.Sink(r.sink))
	if r.outs, err = newOutputs(cfg, log, r.mon, a); err != nil {
		return err
	}
	r.outs.origin = r.recordingOrigin
	r.publish(&loaded{path: o.ConfigPath, raw: raw, cfg: cfg})
	var web *console.Server
	if cfg.HTTP.Enabled() {
		// Listen before any camera starts: a port in use fails the start.
		web, err = console.New(console.Config{HTTP: cfg.HTTP, Backend: r, Events: recent, Metrics: r.metrics.Handler(),
			AuditPath: auditDir, Logger: log})
		if err != nil {
			return err
		}
		defer web.Close()
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	r.site = pipeline.NewSite(log)
	site := r.site
	log.Info("building cameras", "cameras", len(cfg.EnabledCameras()))
	ms, err := r.members(runCtx, cfg)
	if err != nil {
		return err
	}
	ch := site.Apply(runCtx, ms)
	started := ch.Started
	if len(started) == 0 {
		return errors.New("no camera could be started (see the errors above); check `edge config check` and `edge probe URL`")
	}
	r.audit.config(o.ConfigPath, raw, nil, cfg, "start", ch, nil)
	// Gates open only now, before any output runs: until then every image
	// output is paused and the encoder fed nothing.
	r.mon.Apply(cfg)
	// Before the publisher runs, so that it tells these from leftovers.
	r.announce(cfg)

	waitOutputs, err := r.outs.start(runCtx)
	if err != nil {
		stop()
		site.Wait()
		return err
	}
	var wg sync.WaitGroup
	if web != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := web.Serve(runCtx); err != nil {
				log.Error("operator console stopped", "err", err)
			}
		}()
		log.Info("operator console, API and metrics", "url", web.URL(), "auth", cfg.HTTP.Username != "")
	}
	wg.Add(2)
	go func() { defer wg.Done(); r.mon.Run(runCtx) }()
	go func() {
		defer wg.Done()
		a.l.CheckpointEvery(runCtx, time.Duration(cfg.Audit.CheckpointMinutes)*time.Minute, func(err error) {
			log.Error("audit checkpoint failed", "err", err)
		})
	}()
	pubDone := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		pubDone <- pub.Run(runCtx, nil)
	}()
	if o.Print != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watch.Events(runCtx, brokers[0], cfg.MQTT.Username, cfg.MQTT.Password, cfg.Topics(), o.Print); err != nil {
				log.Error("printing events stopped", "err", err)
			}
		}()
	}
	log.Info("edge running", "site", cfg.Site, "cameras", started)

	r.running.Store(true)
	r.serve(runCtx, &loaded{path: o.ConfigPath, raw: raw, cfg: cfg}, o.WatchEvery, o.Reload, pubDone)
	r.running.Store(false)

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

// Command is `edge run`: Run with SIGHUP asking for a reload (o.Reload is
// replaced). SIGHUP means "reload", never "die", from the first moment on: a
// reload sent during start-up or shutdown must not cut off a recording.
func Command(ctx context.Context, o Options) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	o.Reload = hup
	return Run(ctx, o)
}
