package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/record"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// outputs are the masked outputs of one `edge run`: the RTSP restream
// server, and per camera an encoder, a recorder and a snapshotter. Each
// runs on its own goroutine, fed only masked frames.
type outputs struct {
	cfg *configs.Config
	log *slog.Logger
	srv *restream.Server // nil when no camera restreams
	// mon gates every image output on its camera's sign; audit records
	// what retention deletes (nil writes nothing).
	mon   *compliance.Monitor
	audit *auditLog
	runs  []func(context.Context) error
	// origin gives a camera's recording origin tags (nil: none).
	origin func(camera string) map[string]string

	// Once started, outputs of cameras added by a reload start at once.
	mu  sync.Mutex
	ctx context.Context
	wg  sync.WaitGroup
}

func newOutputs(cfg *configs.Config, log *slog.Logger, mon *compliance.Monitor, aud *auditLog) (*outputs, error) {
	o := &outputs{cfg: cfg, log: log, mon: mon, audit: aud}
	for _, c := range cfg.EnabledCameras() {
		if c.Restream {
			srv, err := restream.NewServer(pipeline.RestreamServerConfig(cfg, log))
			if err != nil {
				return nil, err
			}
			o.srv = srv
			break
		}
	}
	return o, nil
}

// camera builds c's outputs: the sink the camera must use (the snapshotter
// wraps it, to see enter events), the pipeline outputs, and the snapshot
// output every camera has (the console's picture is taken from it too).
func (o *outputs) camera(c *configs.Camera, sink pipeline.Sink) (builtOutputs, error) {
	clog := o.log.With("camera", c.ID)
	var outs []pipeline.Output
	latest := snapshot.NewLatest()
	// The encoder's units go to equal consumers, each behind its own
	// queue in the fan-out: a slow disk never holds back the restream.
	var consumers []func(context.Context) error
	fan := encode.NewFanout(clog)
	// Every image output is paused until the monitor has seen the camera's
	// sign valid, and again whenever it is not.
	gated := map[string]compliance.Pausable{}
	if c.Restream && o.srv != nil {
		p := o.srv.Path(c.ID)
		units := fan.Add("restream", restream.QueueSize)
		consumers = append(consumers, func(ctx context.Context) error { return p.Run(ctx, units) })
		gated["restream"] = p
	}
	if c.Record.Enabled {
		id := c.ID
		rcfg := pipeline.RecordConfig(c, o.originOf(c.ID), o.log)
		rcfg.OnDelete = func(path string, size int64, age time.Duration) {
			o.audit.write(kindRecordDeleted, struct {
				Camera string  `json:"camera"`
				File   string  `json:"file"`
				Bytes  int64   `json:"bytes"`
				AgeS   float64 `json:"age_s"`
			}{id, path, size, sinceSeconds(age)})
		}
		rec, err := record.New(rcfg)
		if err != nil {
			return builtOutputs{}, err
		}
		units := fan.Add("record", record.QueueSize)
		consumers = append(consumers, func(ctx context.Context) error { return rec.Run(ctx, units) })
		gated["record"] = rec
		clog.Info("recording masked segments", "dir", filepath.Clean(rec.Dir()))
	}
	if len(consumers) > 0 {
		enc, err := encode.New(pipeline.EncoderConfig(c, o.log))
		if err != nil {
			return builtOutputs{}, err
		}
		in := encode.NewInput(clog)
		units := make(chan media.AccessUnit, 1)
		outs = append(outs, in)
		o.add(func(ctx context.Context) error {
			defer in.Close()
			return enc.Run(ctx, in.Frames(), units)
		})
		o.add(func(ctx context.Context) error { return fan.Run(ctx, units) })
		for _, run := range consumers {
			o.add(run)
		}
	}
	if c.Snapshots.Enabled {
		id := c.ID
		scfg := pipeline.SnapshotConfig(o.cfg, c, latest, sink, o.log)
		scfg.OnClear = func(shown time.Duration, reason string) {
			o.audit.write(kindSnapshotClear, struct {
				Camera string  `json:"camera"`
				ShownS float64 `json:"shown_s"`
				Reason string  `json:"reason"`
			}{id, sinceSeconds(shown), reason})
		}
		snap, err := snapshot.New(scfg)
		if err != nil {
			return builtOutputs{}, err
		}
		sink = snap
		o.add(snap.Run)
		gated["snapshots"] = snap
	}
	if len(gated) > 0 {
		g := o.mon.Register(c.ID, gated)
		for i := range outs {
			outs[i] = g.Wrap(outs[i]) // nothing is encoded off-sign
		}
	}
	// Not gated: snapshots are paused by the monitor and the console asks
	// it before serving, and a picture must be ready the moment a sign is.
	outs = append(outs, latest)
	return builtOutputs{sink: sink, outputs: outs, latest: latest}, nil
}

// add runs fn now if the outputs have started, or at start otherwise.
func (o *outputs) add(fn func(context.Context) error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx == nil {
		o.runs = append(o.runs, fn)
		return
	}
	o.go1(fn)
}

func (o *outputs) go1(fn func(context.Context) error) {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		if err := fn(o.ctx); err != nil {
			o.log.Error("masked output stopped", "err", err)
		}
	}()
}

// start starts the server and every output goroutine; the returned wait
// blocks until ctx is done and they have all ended (recordings finished).
func (o *outputs) start(ctx context.Context) (wait func(), err error) {
	if o.srv != nil {
		if err := o.srv.Start(); err != nil {
			return nil, err
		}
		for _, c := range o.cfg.EnabledCameras() {
			if c.Restream {
				o.log.Info("masked restream", "camera", c.ID, "url", o.srv.URL(c.ID))
			}
		}
	}
	o.mu.Lock()
	o.ctx = ctx
	for _, run := range o.runs {
		o.go1(run)
	}
	o.runs = nil
	o.mu.Unlock()
	return func() {
		<-ctx.Done()
		o.wg.Wait()
		if o.srv != nil {
			o.srv.Close()
		}
	}, nil
}

// originOf is the record.Config.Origin of camera id.
func (o *outputs) originOf(id string) func() map[string]string {
	if o.origin == nil {
		return nil
	}
	return func() map[string]string { return o.origin(id) }
}
