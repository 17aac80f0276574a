package pipeline

import (
	"context"
	"image"
	"log/slog"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/stages/detect"
	encodestage "github.com/edgeprivacy/edge/stages/encode"
	"github.com/edgeprivacy/edge/stages/ingest"
	"github.com/edgeprivacy/edge/stages/publish"
	"github.com/edgeprivacy/edge/stages/record"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/stages/snapshot"
	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// FromConfig maps a camera of a loaded config to the settings of its
// pipeline: zones and signage, mask colour and detection. Production runs
// and verify runs both build their cameras through it, so an inspector's
// run analyses exactly what production would. The caller sets Source, Sink,
// Outputs and the hooks.
func FromConfig(conf *configs.Config, cam *configs.Camera) (CameraConfig, error) {
	return FromConfigContext(context.Background(), conf, cam)
}

// FromConfigContext is FromConfig that gives up once ctx is done (the zones'
// polygons are checked again here, which takes a while for large ones).
func FromConfigContext(ctx context.Context, conf *configs.Config, cam *configs.Camera) (CameraConfig, error) {
	zl, err := cam.ZoneListContext(ctx)
	if err != nil {
		return CameraConfig{}, err
	}
	// Two-stage association needs the weak boxes: min_score lets them
	// through, track_score says which start tracks.
	high := cam.Detect.TrackScore
	if high == 0 {
		high = max(track.DefaultHighScore, cam.Detect.MinScore)
	}
	return CameraConfig{
		Site: conf.Site, Camera: cam.ID,
		Zones: zones.NewSet(zl, conf.SignMap()).WithPersonHeight(cam.Detect.PersonHeight),
		// The file says [r, g, b]; frames are BGR.
		MaskColor: [3]uint8{uint8(cam.Mask.Color[2]), uint8(cam.Mask.Color[1]), uint8(cam.Mask.Color[0])},
		DetectFPS: cam.Detect.FPS,
		Detect: detect.Config{Kind: cam.Detect.Kind, Model: cam.Detect.Model, ModelConfig: cam.Detect.ModelConfig,
			MinScore: cam.Detect.MinScore, Width: cam.Detect.Width, Upscale: cam.Detect.Upscale, DNN: dnnConfig(&cam.Detect)},
		Track: track.Config{HighScore: high,
			Hold: time.Duration(cam.Detect.HoldSeconds * float64(time.Second))},
	}, nil
}

// dnnConfig is the network description of d (zero fields: the format's defaults).
func dnnConfig(d *configs.Detect) detect.DNNConfig {
	c := detect.DNNConfig{Format: d.ModelFormat, PersonClass: d.PersonClass}
	if d.InputSize != [2]int{} {
		c.InputSize = image.Pt(d.InputSize[0], d.InputSize[1])
	}
	return c
}

// The rest of this file maps the config to every other stage, so that each
// setting is translated (and each default taken from configs) in one place.

// IngestConfig is the RTSP source of cam.
func IngestConfig(cam *configs.Camera, log *slog.Logger) ingest.Config {
	return ingest.Config{URL: cam.URL, Transport: cam.Transport, Logger: log.With("camera", cam.ID)}
}

// RestreamServerConfig is the RTSP server of masked streams.
func RestreamServerConfig(conf *configs.Config, log *slog.Logger) restream.ServerConfig {
	return restream.ServerConfig{Addr: conf.Restream.Addr, Username: conf.Restream.Username, Password: conf.Restream.Password, Logger: log}
}

// RecordConfig is cam's recorder; origin is stamped into every segment.
func RecordConfig(cam *configs.Camera, origin func(privacyZones string) map[string]string, log *slog.Logger) record.Config {
	r := cam.Record
	return record.Config{
		Camera: cam.ID, Dir: r.Dir, Segment: time.Duration(r.SegmentSeconds) * time.Second,
		MaxBytes: r.MaxBytes, MaxAge: time.Duration(r.MaxDays) * 24 * time.Hour, Logger: log, Origin: origin,
	}
}

// EncoderConfig is cam's encoder stage of masked frames.
func EncoderConfig(cam *configs.Camera, log *slog.Logger) encodestage.Config {
	return encodestage.Config{
		Camera: cam.ID, Logger: log,
		Encode: encode.Config{OutWidth: cam.Encode.Width, FPS: cam.Encode.FPS, BitrateKbps: cam.Encode.BitrateKbps},
	}
}

// SnapshotConfig is cam's snapshotter, taking pictures from frames (the
// camera's snapshot output) and passing messages on to sink.
func SnapshotConfig(conf *configs.Config, cam *configs.Camera, frames *snapshot.Latest, sink Sink, log *slog.Logger) snapshot.Config {
	return snapshot.Config{
		Camera: cam.ID, TopicPrefix: conf.Topics(), Crop: cam.Snapshots.Crop, Frames: frames, Sink: sink, Logger: log,
		Retain: time.Duration(cam.Snapshots.RetainSeconds) * time.Second,
	}
}

// PublishConfig is the MQTT publisher of conf, connecting to brokers (the
// configured ones, or the embedded broker's URL). owned are the retained
// topic filters the publisher clears and re-publishes; build names this binary.
func PublishConfig(conf *configs.Config, brokers, owned []string, build string, log *slog.Logger) publish.Config {
	m := conf.MQTT
	return publish.Config{
		Brokers: brokers, ClientID: m.ClientID, Username: m.Username, Password: m.Password,
		TLS: publish.TLS{CA: m.TLS.CA, Cert: m.TLS.Cert, Key: m.TLS.Key},
		QoS: byte(m.QoS), TopicPrefix: conf.Topics(), SpoolDir: m.SpoolDir, Logger: log,
		Owned: owned, Site: conf.Site, Box: conf.BoxID, Build: build,
		HeartbeatInterval: time.Duration(m.HeartbeatSeconds) * time.Second,
	}
}
