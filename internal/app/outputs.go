package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/metrics"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/record"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/stages/snapshot"
)

// outputs are the masked outputs of one `edge run`: the RTSP restream
// server, and per camera an encoder, a recorder and a snapshotter. Each
// runs on its own goroutine, fed only masked frames.
//
// A camera's pipeline holds only the front of its outputs (camOutputs: a
// frame switch and a sink switch, built once), so that a reload changing the
// camera's output settings rebuilds the part behind them (reconfigure) while
// ingest, decode and the tracker run on: a restream, encode or record change
// restarts the encoder with its restream path and recorder, a snapshots
// change the snapshotter alone.
type outputs struct {
	cfg *configs.Config // in force; under mu once cameras run (config)
	log *slog.Logger
	// srv is nil while no camera restreams; a reload may build it while
	// wait reads it, so it is kept under mu.
	srv *restream.Server
	// mon gates every image output on its camera's sign; audit records
	// what retention deletes (nil writes nothing).
	mon   *compliance.Monitor
	audit *auditLog
	// origin gives a camera's recording origin tags (nil: none).
	origin func(camera, privacyZones string) map[string]string

	mu      sync.Mutex
	cams    map[string]*camOutputs
	pending []*part         // built before start
	ctx     context.Context // set by start
	wg      sync.WaitGroup
}

// camOutputs are one camera's outputs, kept for the life of the process.
type camOutputs struct {
	id     string
	base   pipeline.Sink // the runner's sink, behind the snapshotter
	latest *snapshot.Latest
	frames frameSwitch
	sink   sinkSwitch
	// gates stand for each named output in the monitor, which knows them
	// from the first build that had them; what they pause changes.
	gates map[string]*pausable
	gate  *compliance.Gate // nil until the camera had an image output

	stream    *part // the encoder, fan-out, restream path and recorder
	streamKey string
	snaps     *part // the snapshotter
	snapsKey  string

	// retired sums the counters of the parts reloads have replaced, and
	// rebuildDrops the frames dropped while they were rebuilt, so that the
	// exported counters only go up (under outputs.mu).
	retired      []metrics.OutputStats
	rebuildDrops uint64
}

// part is goroutines of one camera's outputs that start and stop together.
type part struct {
	name   string
	runs   []func(context.Context) error
	cancel context.CancelFunc // set when started
	wg     sync.WaitGroup
	// gated are the part's pausable outputs by name; front is what the
	// camera's frames go to (nil: none), sink what its messages go to.
	gated map[string]compliance.Pausable
	front pipeline.Output
	sink  pipeline.Sink
	// stats reads the counters of the part's outputs (nil: none).
	stats func() []metrics.OutputStats
}

func newOutputs(cfg *configs.Config, log *slog.Logger, mon *compliance.Monitor, aud *auditLog) (*outputs, error) {
	o := &outputs{cfg: cfg, log: log, mon: mon, audit: aud, cams: map[string]*camOutputs{}}
	for _, c := range cfg.EnabledCameras() {
		if c.Restream {
			if _, err := o.server(cfg); err != nil {
				return nil, err
			}
			break
		}
	}
	return o, nil
}

// disconnectViewers ends the restream sessions of camera, if a restream
// server runs (restream.Server.DisconnectViewers).
func (o *outputs) disconnectViewers(camera string) {
	o.mu.Lock()
	srv := o.srv
	o.mu.Unlock()
	if srv != nil {
		srv.DisconnectViewers(camera)
	}
}

// server returns the restream server, building it when there is none (and
// starting it when the outputs run). Once the outputs are stopping it
// refuses: wait has closed, or is about to close, the server it saw, and
// a new one would listen for ever.
func (o *outputs) server(cfg *configs.Config) (*restream.Server, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx != nil && o.ctx.Err() != nil {
		return nil, fmt.Errorf("restream server not built: the outputs are stopping: %w", o.ctx.Err())
	}
	if o.srv != nil {
		return o.srv, nil
	}
	srv, err := restream.NewServer(pipeline.RestreamServerConfig(cfg, o.log))
	if err != nil {
		return nil, err
	}
	if o.ctx != nil {
		if err := srv.Start(); err != nil {
			return nil, err
		}
	}
	o.srv = srv
	return srv, nil
}

// config is the config in force; a reload replaces it while cameras are
// built on other goroutines.
func (o *outputs) config() *configs.Config {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cfg
}

func (o *outputs) started() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ctx != nil
}

// camera builds c's outputs: the sink the camera must use (the snapshotter
// wraps it, to see enter events), the pipeline outputs, and the snapshot
// output every camera has (the console's picture is taken from it too).
// Whichever pipeline runs the camera, now or after a restart, gets the same.
func (o *outputs) camera(c *configs.Camera, sink pipeline.Sink) (builtOutputs, error) {
	co := &camOutputs{id: c.ID, base: sink, latest: snapshot.NewLatest(), gates: map[string]*pausable{}}
	co.sink.set(sink)
	stream, err := o.buildStream(c)
	if err != nil {
		return builtOutputs{}, err
	}
	snaps, err := o.buildSnaps(o.config(), c, co)
	if err != nil {
		return builtOutputs{}, err
	}
	o.swap(co, stream, snaps, streamKey(c), snapsKey(c))
	o.run(stream)
	o.run(snaps)
	o.mu.Lock()
	o.cams[c.ID] = co
	o.mu.Unlock()
	// The snapshot output is not gated: snapshots are paused by the
	// monitor and the console asks it before serving, and a picture must be
	// ready the moment a sign is.
	return builtOutputs{sink: &co.sink, outputs: []pipeline.Output{&co.frames, co.latest}, latest: co.latest}, nil
}

// streamKey and snapsKey fingerprint the settings each part is built from.
func streamKey(c *configs.Camera) string {
	return jsonString([]any{c.Restream, c.Encode, c.Record})
}

func snapsKey(c *configs.Camera) string { return jsonString(c.Snapshots) }

func jsonString(v any) string {
	b, _ := json.Marshal(v) // plain config structs: cannot fail
	return string(b)
}

// buildStream builds the encoder and its consumers (restream path,
// recorder); nil when the camera has neither.
func (o *outputs) buildStream(c *configs.Camera) (*part, error) {
	clog := o.log.With("camera", c.ID)
	p := &part{name: "stream", gated: map[string]compliance.Pausable{}}
	// The encoder's units go to equal consumers, each behind its own
	// queue in the fan-out: a slow disk never holds back the restream.
	fan := encode.NewFanout(clog)
	// What each consumer's fan-out queue dropped: the stale units are
	// counted in Dropped too.
	fanDrops := func(name string, stale uint64) map[string]uint64 {
		return map[string]uint64{metrics.DropBusy: fan.Dropped(name) - fan.Stale(name), metrics.DropStaleMask: fan.Stale(name) + stale}
	}
	var stats []func() metrics.OutputStats
	if c.Restream {
		srv, err := o.server(o.config())
		if err != nil {
			return nil, err
		}
		path := srv.Path(c.ID)
		if o.started() {
			clog.Info("masked restream", "url", srv.URL(c.ID))
		}
		units := fan.Add("restream", restream.QueueSize)
		p.runs = append(p.runs, func(ctx context.Context) error { return path.Run(ctx, units) })
		p.gated["restream"] = path
		stats = append(stats, func() metrics.OutputStats {
			return metrics.OutputStats{Output: "restream", Dropped: fanDrops("restream", path.StaleMask()), Failures: path.Failures()}
		})
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
			return nil, err
		}
		units := fan.Add("record", record.QueueSize)
		p.runs = append(p.runs, func(ctx context.Context) error { return rec.Run(ctx, units) })
		p.gated["record"] = rec
		stats = append(stats, func() metrics.OutputStats {
			s := rec.Stats()
			d := fanDrops("record", s.StaleMask)
			d[metrics.DropNoKeyframe] = s.Dropped
			return metrics.OutputStats{Output: "record", Dropped: d, Failures: s.Failures}
		})
		clog.Info("recording masked segments", "dir", filepath.Clean(rec.Dir()))
	}
	if len(p.runs) == 0 {
		return nil, nil
	}
	enc, err := encode.New(pipeline.EncoderConfig(c, o.log))
	if err != nil {
		return nil, err
	}
	in := encode.NewInput(clog)
	units := make(chan media.AccessUnit, 1)
	p.front = in
	p.stats = func() []metrics.OutputStats {
		s := enc.Stats()
		out := []metrics.OutputStats{{Output: "encode", Dropped: map[string]uint64{metrics.DropBusy: in.Dropped(), metrics.DropStaleMask: s.StaleMask}, Failures: s.Failed}}
		for _, st := range stats {
			out = append(out, st())
		}
		return out
	}
	p.runs = append(p.runs,
		func(ctx context.Context) error {
			defer in.Close()
			return enc.Run(ctx, in.Frames(), units)
		},
		func(ctx context.Context) error { return fan.Run(ctx, units) })
	return p, nil
}

// buildSnaps builds the snapshotter in front of co's sink; nil when
// snapshots are off.
func (o *outputs) buildSnaps(cfg *configs.Config, c *configs.Camera, co *camOutputs) (*part, error) {
	if !c.Snapshots.Enabled {
		return nil, nil
	}
	id := c.ID
	scfg := pipeline.SnapshotConfig(cfg, c, co.latest, co.base, o.log)
	scfg.Allowed = o.mon.Gate(id).Open
	scfg.OnClear = func(shown time.Duration, reason string) {
		o.audit.write(kindSnapshotClear, struct {
			Camera string  `json:"camera"`
			ShownS float64 `json:"shown_s"`
			Reason string  `json:"reason"`
		}{id, sinceSeconds(shown), reason})
	}
	snap, err := snapshot.New(scfg)
	if err != nil {
		return nil, err
	}
	return &part{name: "snapshots", runs: []func(context.Context) error{snap.Run},
		gated: map[string]compliance.Pausable{"snapshots": snap}, sink: snap,
		stats: func() []metrics.OutputStats {
			s := snap.Stats()
			return []metrics.OutputStats{{Output: "snapshots", Dropped: map[string]uint64{metrics.DropBusy: s.Dropped, metrics.DropStaleMask: s.StaleMask}, Failures: s.Failed}}
		}}, nil
}

// swap puts stream and snaps (either nil for none) behind co's front and
// registers their outputs with the monitor. The parts they replace must
// have been stopped; the caller starts the new ones (run).
func (o *outputs) swap(co *camOutputs, stream, snaps *part, sk, nk string) {
	var fresh map[string]compliance.Pausable
	for _, p := range []*part{stream, snaps} {
		if p == nil {
			continue
		}
		for name, out := range p.gated {
			g := co.gates[name]
			if g == nil {
				g = &pausable{paused: true}
				co.gates[name] = g
				if fresh == nil {
					fresh = map[string]compliance.Pausable{}
				}
				fresh[name] = g
			}
			g.set(out)
		}
	}
	if fresh != nil {
		// Paused until the monitor has seen the camera's sign valid, and
		// again whenever it is not.
		co.gate = o.mon.Register(co.id, fresh)
	}
	o.mu.Lock() // stats reads the parts in force
	co.stream, co.streamKey, co.snaps, co.snapsKey = stream, sk, snaps, nk
	o.mu.Unlock()
	var front pipeline.Output
	if stream != nil && stream.front != nil {
		front = stream.front
		if co.gate != nil {
			front = co.gate.Wrap(front) // nothing is encoded off-sign
		}
	}
	co.frames.set(front)
	if snaps != nil {
		co.sink.set(snaps.sink)
	} else {
		co.sink.set(co.base)
	}
}

// run starts p now if the outputs have started, or at start otherwise.
func (o *outputs) run(p *part) {
	if p == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx == nil {
		o.pending = append(o.pending, p)
		return
	}
	o.launch(p)
}

// launch starts p's goroutines under a context of its own. Call with mu held.
func (o *outputs) launch(p *part) {
	ctx, cancel := context.WithCancel(o.ctx)
	p.cancel = cancel
	for _, fn := range p.runs {
		o.wg.Add(1)
		p.wg.Add(1)
		go func() {
			defer o.wg.Done()
			defer p.wg.Done()
			if err := fn(ctx); err != nil {
				o.log.Error("masked output stopped", "output", p.name, "err", err)
			}
		}()
	}
}

// stop ends p and waits for it: a recorder finishes its segment.
func (o *outputs) stop(p *part) {
	if p == nil {
		return
	}
	o.mu.Lock()
	if i := slices.Index(o.pending, p); i >= 0 {
		o.pending = slices.Delete(o.pending, i, i+1)
	}
	cancel := p.cancel
	o.mu.Unlock()
	if cancel != nil {
		cancel()
		p.wg.Wait()
	}
}

// change is a camera's outputs rebuilt for a new config, not yet in force.
type change struct {
	co                  *camOutputs
	stream, snaps       *part
	newStream, newSnaps bool
	streamKey, snapsKey string
	rebuilt             []string
}

// reconfigure applies next's output settings to the cameras already
// running: only the parts whose settings changed are stopped and built
// again, behind the same front, so the camera's pipeline runs on. Every
// changed part is built before any is stopped: a part that cannot be built
// fails the whole change, and nothing is applied. It returns what it
// restarted, as "camera/output".
func (o *outputs) reconfigure(next *configs.Config) ([]string, error) {
	var changes []change
	for _, c := range next.EnabledCameras() {
		o.mu.Lock()
		co, ok := o.cams[c.ID]
		o.mu.Unlock()
		if !ok {
			continue // a new camera: built with its pipeline
		}
		ch := change{co: co, streamKey: streamKey(c), snapsKey: snapsKey(c)}
		var err error
		if ch.streamKey != co.streamKey {
			ch.newStream = true
			if ch.stream, err = o.buildStream(c); err != nil {
				return nil, fmt.Errorf("camera %s: restream, encode or record: %w", c.ID, err)
			}
			ch.rebuilt = append(ch.rebuilt, c.ID+"/stream")
		}
		if ch.snapsKey != co.snapsKey {
			ch.newSnaps = true
			if ch.snaps, err = o.buildSnaps(next, c, co); err != nil {
				return nil, fmt.Errorf("camera %s: snapshots: %w", c.ID, err)
			}
			ch.rebuilt = append(ch.rebuilt, c.ID+"/snapshots")
		}
		if ch.newStream || ch.newSnaps {
			changes = append(changes, ch)
		}
	}
	o.mu.Lock()
	o.cfg = next
	o.mu.Unlock()
	var restarted []string
	for _, ch := range changes {
		co := ch.co
		stream, snaps := co.stream, co.snaps
		droppedBefore := co.frames.Dropped()
		if ch.newStream {
			co.frames.set(nil) // frames meanwhile are dropped, never queued
			o.retire(co, co.stream, ch.stream)
			o.stop(co.stream)
			o.keepCounts(co, co.stream)
			stream = ch.stream
		}
		if ch.newSnaps {
			co.sink.set(co.base)
			o.retire(co, co.snaps, ch.snaps)
			o.stop(co.snaps)
			o.keepCounts(co, co.snaps)
			snaps = ch.snaps
		}
		sk, nk := co.streamKey, co.snapsKey
		if ch.newStream {
			sk = ch.streamKey
		}
		if ch.newSnaps {
			nk = ch.snapsKey
		}
		o.swap(co, stream, snaps, sk, nk)
		if ch.newStream {
			o.run(ch.stream)
		}
		if ch.newSnaps {
			o.run(ch.snaps)
		}
		restarted = append(restarted, ch.rebuilt...)
		dropped := co.frames.Dropped() - droppedBefore
		o.mu.Lock()
		co.rebuildDrops += dropped
		o.mu.Unlock()
		o.log.Info("masked outputs rebuilt; the camera's pipeline runs on", "camera", co.id, "rebuilt", ch.rebuilt,
			"frames_dropped_during_rebuild", dropped)
	}
	return restarted, nil
}

// keepCounts adds the final counters of p, stopped, to co's retired ones.
func (o *outputs) keepCounts(co *camOutputs, p *part) {
	if p == nil || p.stats == nil {
		return
	}
	final := p.stats()
	o.mu.Lock()
	defer o.mu.Unlock()
	co.retired = addOutputStats(co.retired, final)
}

// stats returns the counters of camera id's outputs, those in force and
// those reloads replaced, summed per output; nil for a camera without
// outputs.
func (o *outputs) stats(id string) []metrics.OutputStats {
	o.mu.Lock()
	co := o.cams[id]
	if co == nil {
		o.mu.Unlock()
		return nil
	}
	out := addOutputStats(nil, co.retired)
	stream, snaps, rebuild := co.stream, co.snaps, co.rebuildDrops
	o.mu.Unlock()
	for _, p := range []*part{stream, snaps} {
		if p != nil && p.stats != nil {
			out = addOutputStats(out, p.stats())
		}
	}
	if rebuild > 0 {
		out = addOutputStats(out, []metrics.OutputStats{{Output: "encode", Dropped: map[string]uint64{metrics.DropRebuild: rebuild}}})
	}
	return out
}

// addOutputStats adds the counters of more to sum, output by output, and
// returns sum; it never changes the maps of more.
func addOutputStats(sum, more []metrics.OutputStats) []metrics.OutputStats {
	for _, m := range more {
		i := slices.IndexFunc(sum, func(s metrics.OutputStats) bool { return s.Output == m.Output })
		if i < 0 {
			sum = append(sum, metrics.OutputStats{Output: m.Output, Dropped: map[string]uint64{}})
			i = len(sum) - 1
		}
		for reason, n := range m.Dropped {
			sum[i].Dropped[reason] += n
		}
		sum[i].Failures += m.Failures
	}
	return sum
}

// retire switches off the outputs of old that next no longer has: a
// restream path stops serving (its viewers are disconnected, new ones get
// 404), a snapshotter clears its retained picture.
func (o *outputs) retire(co *camOutputs, old, next *part) {
	if old == nil {
		return
	}
	for name, out := range old.gated {
		if next != nil && next.gated[name] != nil {
			continue
		}
		out.Pause()
		if g := co.gates[name]; g != nil {
			g.set(nil)
		}
	}
}

// start starts the server and every output goroutine; the returned wait
// blocks until ctx is done and they have all ended (recordings finished).
func (o *outputs) start(ctx context.Context) (wait func(), err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
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
	o.ctx = ctx
	for _, p := range o.pending {
		o.launch(p)
	}
	o.pending = nil
	return func() {
		<-ctx.Done()
		o.wg.Wait()
		// After ctx is done server builds no more, so this is the last.
		o.mu.Lock()
		srv := o.srv
		o.mu.Unlock()
		if srv != nil {
			srv.Close()
		}
	}, nil
}

// originOf is the record.Config.Origin of camera id.
func (o *outputs) originOf(id string) func(string) map[string]string {
	if o.origin == nil {
		return nil
	}
	return func(zones string) map[string]string { return o.origin(id, zones) }
}

// frameSwitch is the output a camera's pipeline offers its frames to: the
// gated encoder input in force, or nothing (the frame is closed and
// counted: the frames a rebuild of the encoder costs, and those of a camera
// without restream or recording).
type frameSwitch struct {
	cur     atomic.Pointer[pipeline.Output]
	dropped atomic.Uint64
}

// Dropped is how many frames arrived while no output was in force.
func (s *frameSwitch) Dropped() uint64 { return s.dropped.Load() }

func (s *frameSwitch) set(o pipeline.Output) {
	if o == nil {
		s.cur.Store(nil)
		return
	}
	s.cur.Store(&o)
}

// Offer implements pipeline.Output.
func (s *frameSwitch) Offer(f *mask.Frame) {
	if o := s.cur.Load(); o != nil {
		(*o).Offer(f)
		return
	}
	s.dropped.Add(1)
	f.Close()
}

// sinkSwitch is the sink a camera's pipeline publishes to: the snapshotter
// in force (which passes every message on), or the runner's sink.
type sinkSwitch struct{ cur atomic.Pointer[pipeline.Sink] }

func (s *sinkSwitch) set(k pipeline.Sink) { s.cur.Store(&k) }

// Offer implements pipeline.Sink.
func (s *sinkSwitch) Offer(m events.Message) bool { return (*s.cur.Load()).Offer(m) }

// pausable is one named output as the monitor knows it; the output behind
// it is replaced by reloads and takes the state the monitor last set.
type pausable struct {
	mu     sync.Mutex
	cur    compliance.Pausable
	paused bool
}

func (p *pausable) set(o compliance.Pausable) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = o
	p.apply()
}

// Pause implements compliance.Pausable.
func (p *pausable) Pause() { p.setPaused(true) }

// Resume implements compliance.Pausable.
func (p *pausable) Resume() { p.setPaused(false) }

func (p *pausable) setPaused(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = paused
	p.apply()
}

// apply gives the output in force, if any, the state the monitor last set.
// p.mu is held.
func (p *pausable) apply() {
	switch {
	case p.cur == nil:
	case p.paused:
		p.cur.Pause()
	default:
		p.cur.Resume()
	}
}
