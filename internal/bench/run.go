package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/app"
	"github.com/edgeprivacy/edge/internal/broker"
	"github.com/edgeprivacy/edge/internal/latency"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/pipeline"
)

// DefaultClip is the clip benchmarked when none is given.
const DefaultClip = "testvideos/vtest.mp4"

// Options are the settings of a benchmark.
type Options struct {
	// Clip is served as every camera. It defaults to DefaultClip.
	Clip string
	// Cameras is how many cameras to run (FindMax: where the ramp starts).
	Cameras int
	// Seconds is the measured window, after every camera has started.
	Seconds float64
	// Outputs turns on each camera's restream, snapshots and recording.
	Outputs bool
	// Config, when set, is an edge config whose camera CameraID (the first
	// when empty) every bench camera copies: its zones and detector (an ONNX
	// network, say) instead of the demo's zones and HOG.
	Config, CameraID string
	// SampleRSSEvery records the process's RSS this often during the
	// window (soak runs); 0 records none beyond the end.
	SampleRSSEvery time.Duration
	// Warmup is how long every camera must have been masking before the
	// window opens. It defaults to 3 s.
	Warmup time.Duration
	// StartTimeout bounds the wait for every camera's first masked frame.
	// It defaults to 60 s plus a second per camera (a busy box starts slowly).
	StartTimeout time.Duration
	// Progress, when set, gets a line a second (edge bench writes it only to a terminal).
	Progress io.Writer
	// Logger receives the application's warnings and errors.
	Logger *slog.Logger
	// FFmpegFPS and FFmpegCPUFPS are ffmpeg's single-thread decode rates of
	// the clip (per wall and per CPU second); zero measures them.
	FFmpegFPS, FFmpegCPUFPS float64
	// CapacityFPS and CapacityCPUFPS are this build's single-thread decode
	// and mask rates of the clip (see decodeMaskCapacity); zero measures them.
	CapacityFPS, CapacityCPUFPS float64
}

// measureYardsticks fills in the single-thread rates of ffmpeg and of this
// build's decode and mask, one after the other, so the ratio is of one run.
func (o *Options) measureYardsticks(ctx context.Context) error {
	var err error
	if o.FFmpegFPS == 0 {
		if o.FFmpegFPS, o.FFmpegCPUFPS, err = ffmpegDecode(ctx, o.Clip); err != nil {
			return err
		}
	}
	if o.CapacityFPS == 0 {
		if o.CapacityFPS, o.CapacityCPUFPS, err = decodeMaskCapacity(ctx, o.Clip); err != nil {
			return err
		}
	}
	return nil
}

func (o *Options) defaults() error {
	if o.Clip == "" {
		o.Clip = DefaultClip
	}
	if o.Cameras < 1 {
		return fmt.Errorf("bench: --cameras %d; run at least 1", o.Cameras)
	}
	if !(o.Seconds > 0) {
		return fmt.Errorf("bench: --seconds %v; measure for a positive time", o.Seconds)
	}
	if o.Warmup <= 0 {
		o.Warmup = 3 * time.Second
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60*time.Second + time.Duration(o.Cameras)*time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := os.Stat(o.Clip); err != nil {
		return fmt.Errorf("bench: clip: %w (pass --clip FILE, an MP4 or MPEG-TS with H.264 or H.265)", err)
	}
	return nil
}

// Run runs one trial: Cameras cameras of Clip through the application for
// Seconds, and reports what they did.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	info, err := probeClip(ctx, o.Clip)
	if err != nil {
		return nil, err
	}
	if err := o.measureYardsticks(ctx); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "edge-bench")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)

	// One file name per camera, each a link to the clip: replay serves each
	// as its own stream, paced on its own like a real camera.
	abs, err := filepath.Abs(o.Clip)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	clips := filepath.Join(dir, "clips")
	if err := os.Mkdir(clips, 0o700); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var paths []string
	for i := range o.Cameras {
		p := filepath.Join(clips, cameraID(i)+filepath.Ext(o.Clip))
		if err := os.Symlink(abs, p); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		paths = append(paths, p)
	}
	srv, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: paths})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	defer srv.Close()
	b, err := broker.Start("127.0.0.1:0", broker.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	defer b.Close()
	restreamAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	text := configYAML(o.Cameras, srv.Addr(), b.URL(), dir, o.Outputs, restreamAddr, time.Now())
	if o.Config != "" {
		if text, err = templateYAML(o.Config, o.CameraID, o.Cameras, srv.Addr(), b.URL(), dir, o.Outputs, restreamAddr); err != nil {
			return nil, err
		}
	}
	cfgPath := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	// Subscribe where this config publishes: {root}/{site}/{box}/{camera}/events.
	cfg, err := configs.LoadBytes([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("bench: the trial's config: %w", err)
	}
	cams := newCameras()
	sub, err := subscribe(b.URL(), events.EventsTopic(cfg.Topics(), "+"), cams)
	if err != nil {
		return nil, err
	}
	defer sub.Disconnect(250)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	appDone := make(chan error, 1)
	go func() {
		appDone <- app.Run(runCtx, app.Options{ConfigPath: cfgPath, AuditDir: filepath.Join(dir, "audit"),
			KeyPath: filepath.Join(dir, "key", "device.key"), HTTPAddr: "off", OnCamera: cams.started,
			Logger: o.Logger, Build: "bench"})
	}()
	stopApp := func() error {
		stop()
		return <-appDone
	}

	r := &Report{Clip: o.Clip, Info: info, Cameras: o.Cameras, Outputs: o.Outputs,
		FFmpegDecodeFPS: o.FFmpegFPS, FFmpegDecodeCPUFPS: o.FFmpegCPUFPS,
		CapacityFPS: o.CapacityFPS, CapacityCPUFPS: o.CapacityCPUFPS}
	if err := cams.waitMasking(ctx, o.Cameras, o.Warmup, o.StartTimeout, appDone); err != nil {
		r.Why = append(r.Why, err.Error())
		if e := stopApp(); e != nil {
			return nil, e
		}
		r.total()
		r.Sustained = false
		return r, ctx.Err()
	}

	before, restarts := cams.read()
	evBefore := cams.eventSnapshots()
	cpu0, t0 := cpuTime(), time.Now()
	window := time.Duration(o.Seconds * float64(time.Second))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	nextRSS := o.SampleRSSEvery
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case err := <-appDone:
			return nil, fmt.Errorf("bench: edge stopped during the run: %w", err)
		case now := <-tick.C:
			el := now.Sub(t0)
			if o.SampleRSSEvery > 0 && el >= nextRSS {
				held, heap := goMemMB()
				r.RSSSamples = append(r.RSSSamples, RSS{AtSeconds: el.Round(time.Second).Seconds(), MB: rssMB(), GoMB: held, GoHeapMB: heap})
				nextRSS += o.SampleRSSEvery
			}
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "\r%d cameras: %3.0f of %.0f s, masked %d frames, RSS %.0f MB   ",
					o.Cameras, el.Seconds(), o.Seconds, cams.masked(), rssMB())
			}
			done = el >= window
		}
	}
	after, restartsAfter := cams.read()
	r.Seconds = time.Since(t0).Seconds()
	r.CPUPercent = 100 * (cpuTime() - cpu0).Seconds() / r.Seconds
	r.RSSMB = rssMB()
	// Events made just before the window closed are still on their way
	// through the spool and the broker: wait for them (or MaxEventLatency
	// and a second, after which any missing one was late or lost anyway).
	cams.waitDelivered(ctx, after, MaxEventLatency+time.Second)
	evAfter := cams.eventSnapshots()
	if o.Progress != nil {
		fmt.Fprint(o.Progress, "\r\033[K")
	}
	if err := stopApp(); err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("bench: edge: %w", err)
	}
	for i := range o.Cameras {
		id := cameraID(i)
		a, ok := before[id]
		if !ok {
			continue
		}
		r.PerCamera = append(r.PerCamera, cameraFigures(id, a, after[id], evAfter[id].Sub(evBefore[id]),
			r.Seconds, info.FPS, restartsAfter[id]-restarts[id]))
	}
	r.total()
	return r, ctx.Err()
}

// cameras holds the running pipeline of each camera and its delivered events.
type cameras struct {
	mu       sync.Mutex
	cam      map[string]*pipeline.Camera
	restarts map[string]int
	events   map[string]*latency.Histogram
}

func newCameras() *cameras {
	return &cameras{cam: map[string]*pipeline.Camera{}, restarts: map[string]int{}, events: map[string]*latency.Histogram{}}
}

// started is app.Options.OnCamera.
func (cs *cameras) started(c *pipeline.Camera) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.cam[c.ID()]; ok {
		cs.restarts[c.ID()]++
	}
	cs.cam[c.ID()] = c
}

func (cs *cameras) read() (map[string]pipeline.Stats, map[string]int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	st := map[string]pipeline.Stats{}
	for id, c := range cs.cam {
		st[id] = c.Stats()
	}
	rs := map[string]int{}
	for id, n := range cs.restarts {
		rs[id] = n
	}
	return st, rs
}

func (cs *cameras) masked() uint64 {
	st, _ := cs.read()
	var n uint64
	for _, s := range st {
		n += s.Masked
	}
	return n
}

// waitMasking returns once n cameras have masked frames for warmup.
func (cs *cameras) waitMasking(ctx context.Context, n int, warmup, timeout time.Duration, appDone <-chan error) error {
	deadline := time.Now().Add(timeout)
	var allSince time.Time
	for {
		st, _ := cs.read()
		ready := 0
		for _, s := range st {
			if s.Masked > 0 {
				ready++
			}
		}
		switch {
		case ready < n:
			allSince = time.Time{}
		case allSince.IsZero():
			allSince = time.Now()
		case time.Since(allSince) >= warmup:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d cameras masked a frame within %v", ready, n, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-appDone:
			if err == nil {
				err = errors.New("stopped")
			}
			return fmt.Errorf("bench: edge stopped while starting: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (cs *cameras) eventSnapshots() map[string]latency.Snapshot {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	m := map[string]latency.Snapshot{}
	for id, h := range cs.events {
		m[id] = h.Snapshot()
	}
	return m
}

// waitDelivered returns once the subscriber has received, for every camera,
// as many events as stats says its pipeline made, or after timeout.
func (cs *cameras) waitDelivered(ctx context.Context, stats map[string]pipeline.Stats, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		snap := cs.eventSnapshots()
		missing := false
		for id, s := range stats {
			if snap[id].Count() < s.Events {
				missing = true
			}
		}
		if !missing || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// event counts an event delivered over MQTT: from its frame's arrival
// (the event's ts) to now.
func (cs *cameras) event(payload []byte) {
	var e events.Event
	if err := json.Unmarshal(payload, &e); err != nil || e.TS.IsZero() {
		return
	}
	d := time.Since(e.TS)
	cs.mu.Lock()
	h := cs.events[e.Camera]
	if h == nil {
		h = new(latency.Histogram)
		cs.events[e.Camera] = h
	}
	cs.mu.Unlock()
	h.Observe(d)
}

// subscribe receives every camera's events on topic (a pattern) from the
// broker, as any subscriber on site would.
func subscribe(url, topic string, cs *cameras) (paho.Client, error) {
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("edge-bench-%d", time.Now().UnixNano())).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(true).
		SetOnConnectHandler(func(c paho.Client) {
			c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { cs.event(m.Payload()) })
		})
	c := paho.NewClient(opts)
	t := c.Connect()
	if !t.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("bench: no answer from the embedded broker %s within 10 s", url)
	}
	if err := t.Error(); err != nil {
		return nil, fmt.Errorf("bench: subscribe to the embedded broker %s: %w", url, err)
	}
	return c, nil
}
