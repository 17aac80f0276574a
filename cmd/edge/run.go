package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/broker"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/publish"
	"github.com/edgeprivacy/edge/zones"
)

// cmdRun is `edge run --config FILE`: every enabled camera, each its own
// pipeline, events to MQTT. A camera that cannot start is reported and the
// others run on.
func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "", "config `FILE` (YAML)")
	embedded := fs.String("embedded-broker", broker.DefaultAddr, "listen `ADDR` of the embedded MQTT broker, used when mqtt.broker is empty")
	print := fs.Bool("print", false, "also print what is published, as a subscriber sees it")
	audit := fs.String("audit", "", "append every event produced to `FILE` (JSON lines), whatever the broker does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" || fs.NArg() != 0 {
		fs.Usage()
		return &exitError{2, errors.New("usage: edge run --config FILE")}
	}
	cfg, err := configs.Load(*path)
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

	var sink pipeline.Sink = pub
	if *audit != "" {
		a, err := openAudit(*audit, pub, log)
		if err != nil {
			return err
		}
		defer a.Close()
		sink = a
	}
	outs, err := newOutputs(cfg, log)
	if err != nil {
		return err
	}
	var cams []*pipeline.Camera
	for _, c := range cfg.EnabledCameras() {
		cam, err := buildCamera(cfg, c, sink, outs, log)
		if err != nil {
			log.Error("camera not started", "camera", c.ID, "err", err)
			continue
		}
		cams = append(cams, cam)
	}
	if len(cams) == 0 {
		return errors.New("no camera could be started (see the errors above); check `edge config check` and `edge probe URL`")
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	waitOutputs, err := outs.start(runCtx)
	if err != nil {
		return err
	}
	// Stop first: recorders finish their files once the context is done.
	defer func() { stop(); waitOutputs() }()
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
	log.Info("edge running", "site", cfg.Site, "cameras", len(cams))
	pipeline.Supervise(runCtx, cams, log)
	stop()
	wg.Wait()
	return <-pubDone
}

func buildCamera(cfg *configs.Config, c *configs.Camera, sink pipeline.Sink, outs *outputs, log *slog.Logger) (*pipeline.Camera, error) {
	zl, err := c.ZoneList()
	if err != nil {
		return nil, err
	}
	src, err := ingest.New(ingest.Config{URL: c.URL, Transport: c.Transport, Logger: log.With("camera", c.ID)})
	if err != nil {
		return nil, err
	}
	// The snapshotter reads the camera's newest masked frame; cam is set
	// before the camera runs, and so before any event can ask for it.
	var cam *pipeline.Camera
	sink, outputs, err := outs.camera(c, sink, func() *mask.Frame { return cam.Latest() })
	if err != nil {
		return nil, err
	}
	cam, err = pipeline.NewCamera(pipeline.CameraConfig{
		Site: cfg.Site, Camera: c.ID, Source: src, Outputs: outputs,
		Zones:     zones.NewSet(zl, cfg.SignMap()),
		MaskColor: [3]uint8{uint8(c.Mask.Color[2]), uint8(c.Mask.Color[1]), uint8(c.Mask.Color[0])},
		DetectFPS: c.Detect.FPS,
		Detect:    detect.Config{Kind: c.Detect.Kind, Model: c.Detect.Model, ModelConfig: c.Detect.ModelConfig, MinScore: c.Detect.MinScore, Width: c.Detect.Width},
		Sink:      sink,
		Logger:    log,
	})
	return cam, err
}
