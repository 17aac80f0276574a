package configs

import (
	"cmp"
	"os"
	"regexp"
	"time"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/zones"
)

// Defaults applied by ApplyDefaults (and by Load) to fields left empty.
const (
	// DefaultHeartbeatSeconds is the period of {prefix}/heartbeat.
	DefaultHeartbeatSeconds = 15
	DefaultQoS              = 1
	DefaultSpoolDir         = "./spool"
	DefaultTransport        = "tcp"
	// DefaultFPS is the frames a camera asks the detector for each
	// second: 10 meets the entry latency target (p50 <= 0.5 s on vtest;
	// 0.70 s at 5 fps, docs/accuracy.md) where the camera is served it.
	// The box's detector pool serves each camera this rate while it keeps
	// up and a fair share when it does not (stages/detect.Pool): live on
	// vtest a camera costs about 0.2 cores at 10 fps against 0.15 at 5,
	// a 2-core box serves about 6 cameras all of it, and a saturated box
	// no more at 10 than at 5 (edge bench --find-max: 37 cameras at 10,
	// 36 at 5, within the run-to-run spread; docs/performance.md).
	DefaultFPS   = 10.0
	DefaultWidth = 640
	// DefaultMinScore is a confidence (0..1, the same scale for every
	// detector). It sits below the tracker's track_score (0.6 by default) so
	// that the weak boxes between them reach the tracker, which uses them
	// only to continue tracks (two-stage association); at 0.6 the second
	// stage had nothing to work with. For HOG and cascades 0.25 is just
	// above HOG's weakest box (margin 0 is confidence 0.22; 0.25 is margin
	// 0.12, docs/detection.md); docs/accuracy.md has the measurements.
	DefaultMinScore = 0.25
	// DefaultDNNMinScore is min_score's default for networks, whose
	// probabilities are their own: DNN's score floor is already 0.25.
	DefaultDNNMinScore = 0.45
)

// Config is the whole edge configuration of one site.
type Config struct {
	// Site names this installation; it appears in MQTT topics and the default
	// client id, so it must match ^[A-Za-z0-9_-]{1,64}$. Required.
	Site string `mapstructure:"site"`
	// BoxID names this box among the boxes of a fleet: it is a topic level
	// and the MQTT client id, so it must be stable and match
	// ^[A-Za-z0-9_-]{1,64}$. It defaults to the site and the host name
	// ("<site>-<host>", other characters as '-').
	BoxID string `mapstructure:"box_id"`
	// MQTT is where events go.
	MQTT MQTT `mapstructure:"mqtt"`
	// Cameras lists every camera of the site, enabled or not. At least one.
	Cameras []Camera `mapstructure:"cameras"`
	// Signage is the register of surveillance signs that monitored zones refer to.
	Signage []Sign `mapstructure:"signage"`
	// Restream is the RTSP server of masked streams (see outputs.go).
	Restream Restream `mapstructure:"restream"`
	// Audit is the tamper-evident audit log, always on (see audit.go).
	Audit Audit `mapstructure:"audit"`
	// HTTP is the operator console, JSON API and /metrics (see http.go).
	HTTP HTTP `mapstructure:"http"`
	// DetectPool is the box's shared person-detection workers (see detectpool.go).
	DetectPool DetectPool `mapstructure:"detect_pool"`
}

// MQTT configures the event sink.
type MQTT struct {
	// Brokers are the URLs of the nodes of one clustered broker:
	// tcp://host:1883, ssl://host:8883, ws://host/mqtt, wss://...,
	// mqtt://..., mqtts://... Each box tries them in its own stable order
	// and fails over to the next one (see docs/fleet.md).
	Brokers []string `mapstructure:"brokers"`
	// Broker is a shorthand for a single broker; set it or Brokers, not
	// both. Neither means the embedded broker (used by the demo).
	Broker string `mapstructure:"broker"`
	// TopicPrefix is the root topic level; every topic is
	// {topic_prefix}/{site}/{box_id}/... (see Config.Topics). It defaults to
	// "edge".
	TopicPrefix string `mapstructure:"topic_prefix"`
	// ClientID is the MQTT client id. It defaults to "edge-" + box_id.
	ClientID string `mapstructure:"client_id"`
	// HeartbeatSeconds is the period of {prefix}/heartbeat, 1..3600. 0
	// means the default, 15.
	HeartbeatSeconds int `mapstructure:"heartbeat_seconds"`
	// Username for the broker; empty for none.
	Username string `mapstructure:"username"`
	// Password for the broker; never logged (see Config.String).
	Password string `mapstructure:"password"`
	// TLS holds certificate file paths for ssl://, wss:// and mqtts:// brokers.
	TLS TLS `mapstructure:"tls"`
	// QoS is the publish quality of service, 0..2. Load defaults it to 1 when
	// absent; ApplyDefaults leaves it alone because 0 is a valid level.
	QoS int `mapstructure:"qos"`
	// SpoolDir holds the disk-backed queue of events not yet delivered.
	// It defaults to "./spool" (relative to the working directory).
	SpoolDir string `mapstructure:"spool_dir"`
	// HomeAssistant configures Home Assistant MQTT discovery (on by default).
	HomeAssistant HomeAssistant `mapstructure:"home_assistant"`
}

// TLS holds PEM file paths. Cert and Key go together; CA alone is fine.
type TLS struct {
	// CA is a PEM bundle to verify the broker with; empty means system roots.
	CA string `mapstructure:"ca"`
	// Cert is the client certificate, for brokers that require one.
	Cert string `mapstructure:"cert"`
	// Key is the private key of Cert.
	Key string `mapstructure:"key"`
}

// Camera is one RTSP camera and its zones.
type Camera struct {
	// ID names the camera in topics and reports; ^[A-Za-z0-9_-]{1,64}$. Required.
	ID string `mapstructure:"id"`
	// URL is the rtsp:// or rtsps:// stream address; may carry user:password
	// (never logged, see internal/redact). Required.
	URL string `mapstructure:"url"`
	// Transport is the RTSP transport, "tcp" or "udp". It defaults to "tcp".
	Transport string `mapstructure:"transport"`
	// Enabled turns the camera on. It defaults to true; a pointer so that an
	// absent key is told apart from false. Use IsEnabled.
	Enabled *bool `mapstructure:"enabled"`
	// Detect tunes person detection.
	Detect Detect `mapstructure:"detect"`
	// Mask sets how privacy zones are painted.
	Mask Mask `mapstructure:"mask"`
	// Zones are the camera's privacy and monitored areas.
	Zones []Zone `mapstructure:"zones"`
	// Restream serves the masked stream at rtsp://restream.addr/<id>.
	Restream bool `mapstructure:"restream"`
	// Encode tunes the H.264 of the restream and recordings.
	Encode Encode `mapstructure:"encode"`
	// Snapshots publishes masked JPEGs on enter events.
	Snapshots Snapshots `mapstructure:"snapshots"`
	// Record writes masked MP4 segments.
	Record Record `mapstructure:"record"`
	// Signage is the id of the registered sign announcing this camera. The
	// image outputs (restream, recordings, snapshots) run only while it is
	// valid; required when any of them is on. Analysis is gated by the
	// zones' own signs.
	Signage string `mapstructure:"signage"`
}

// Detect tunes person detection on one camera.
type Detect struct {
	// FPS is how many frames a second are analysed, 0 < fps <= 30. 0 means the
	// default, 5.
	FPS float64 `mapstructure:"fps"`
	// Width is the width frames are scaled to for detection, 64..4096 pixels.
	// 0 means the default, 640.
	Width int `mapstructure:"width"`
	// Upscale enlarges the crop the detector is given, after the Width
	// cap, by this factor, 1..4: HOG's window is 64x128 pixels, so a person
	// less than about 100 pixels tall in the crop is not found unless the
	// crop is enlarged. Cost grows with its square. 0 means the default, 1
	// (no enlarging).
	Upscale float64 `mapstructure:"upscale"`
	// MinScore is the lowest detector confidence reported, 0..1, for every
	// kind of detector. 0 means the default: DefaultMinScore (0.25), for
	// dnn DefaultDNNMinScore (0.45).
	MinScore float64 `mapstructure:"min_score"`
	// PersonHeight is how tall a standing person close to the camera is, as
	// a fraction (0..1] of the frame height: the analysis region of a zone
	// reaches this far above it, so the detector sees whole bodies of people
	// whose feet are in the zone. 0 means the default,
	// zones.DefaultPersonHeight (0.4).
	PersonHeight float64 `mapstructure:"person_height"`
	// TrackScore is the confidence (0..1) a detection needs to start a
	// track; detections between MinScore and TrackScore only continue
	// tracks (two-stage association). 0 means the default,
	// track.DefaultHighScore (0.6), or MinScore when that is higher.
	TrackScore float64 `mapstructure:"track_score"`
	// HoldSeconds is how long a tracked person missed by the detector is
	// kept before an exit is sent (an exit comes earlier when their feet
	// leave the zone). 0 means the default, track.DefaultHold (8 s).
	HoldSeconds float64 `mapstructure:"hold_seconds"`
	// Kind is the detector: "hog" (OpenCV's built-in people detector, no files
	// needed; the default), "haar" (an OpenCV cascade XML file in Model, e.g. Debian
	// opencv-data's haarcascade_fullbody.xml) or "dnn" (a person detector
	// network read by OpenCV: SSD-style, or YOLOv5/YOLOv8 ONNX exports; see
	// ModelFormat).
	Kind string `mapstructure:"kind"`
	// Model is the cascade (haar) or weights file (dnn).
	Model string `mapstructure:"model"`
	// ModelConfig is the network description for dnn (.prototxt or .pbtxt);
	// empty for ONNX, whose file describes the network.
	ModelConfig string `mapstructure:"model_config"`
	// ModelFormat is how a dnn network's output is laid out: "ssd" (OpenCV's
	// DetectionOutput, [1,1,N,7]; the default), "yolov5" ([1,N,85]) or
	// "yolov8" ([1,84,N]), the ONNX exports docs/detection.md describes.
	ModelFormat string `mapstructure:"model_format"`
	// InputSize is a dnn network's input [width, height] in pixels. Absent
	// ([0, 0]) means the format's default: 300x300 for ssd, 640x640 for yolo.
	InputSize [2]int `mapstructure:"input_size"`
	// PersonClass is the class id of person in a dnn network's labels. 0
	// means the format's default: 15 (VOC) for ssd, 0 (COCO) for yolo.
	PersonClass int `mapstructure:"person_class"`
	// ModelDeclaration is required for a model that is not a known person
	// detector (models are identified by content, see internal/modelid): what
	// it detects and who vouches for it. It is written to the audit log.
	ModelDeclaration *ModelDeclaration `mapstructure:"model_declaration"`
}

// ModelDeclaration is an operator's written statement about a detector model
// that edge cannot recognise by its content.
type ModelDeclaration struct {
	// Detects is what the model finds; it must be people (person, people,
	// pedestrian, body), never a face or another biometric feature.
	Detects string `mapstructure:"detects" json:"detects"`
	// DeclaredBy is who made the declaration (name and role or contact).
	DeclaredBy string `mapstructure:"declared_by" json:"declared_by"`
}

// Mask sets how privacy zones are painted: always a solid fill, never a blur.
type Mask struct {
	// Color is the fill as [r, g, b], each 0..255. It defaults to black [0, 0, 0].
	Color [3]int `mapstructure:"color"`
}

// Zone is one area of a camera's view, as written in the file.
type Zone struct {
	// ID names the zone in topics and events; ^[A-Za-z0-9_-]{1,64}$, unique per camera.
	ID string `mapstructure:"id"`
	// Kind is "privacy" (painted over) or "monitored" (analysed under signage).
	Kind string `mapstructure:"kind"`
	// Polygon is the outline as [[x, y], ...] in normalised coordinates
	// (fractions 0..1 of frame width and height), at least 3 points.
	Polygon [][]float64 `mapstructure:"polygon"`
	// Signage is the id of the sign that permits analysis here. Required for
	// monitored zones; ignored for privacy zones.
	Signage string `mapstructure:"signage"`
}

// Sign is a registered surveillance sign, as written in the file.
type Sign struct {
	// ID is how zones refer to the sign; ^[A-Za-z0-9_-]{1,64}$. Required.
	ID string `mapstructure:"id"`
	// Text is what the sign says.
	Text string `mapstructure:"text"`
	// Location is where the sign hangs.
	Location string `mapstructure:"location"`
	// Purpose is the specific purpose of the analysis, one of zones.Purposes
	// (public-safety and its named sub-purposes); carried in every event. Required.
	Purpose string `mapstructure:"purpose"`
	// PurposeDetail optionally says in free text what the purpose means at
	// this sign, e.g. "occupancy counting for the evacuation plan"; carried in
	// every event. It cannot widen the purpose.
	PurposeDetail string `mapstructure:"purpose_detail"`
	// Operator is who runs the cameras and answers questions.
	Operator string `mapstructure:"operator"`
	// VerifiedAt is when the sign was last checked in place (RFC 3339 or
	// YYYY-MM-DD, UTC). Required.
	VerifiedAt time.Time `mapstructure:"verified_at"`
	// ExpiresAt is when the verification lapses (RFC 3339 or YYYY-MM-DD, UTC).
	// Required; after it, the zone is no longer analysed.
	ExpiresAt time.Time `mapstructure:"expires_at"`
}

// ApplyDefaults fills fields left at their zero value with the documented
// defaults. It is idempotent. It does not touch MQTT.QoS (0 is valid).
func (c *Config) ApplyDefaults() {
	c.MQTT.TopicPrefix = cmp.Or(c.MQTT.TopicPrefix, events.DefaultTopicPrefix)
	if c.BoxID == "" && c.Site != "" {
		c.BoxID = defaultBoxID(c.Site)
	}
	if c.MQTT.ClientID == "" && c.BoxID != "" {
		c.MQTT.ClientID = "edge-" + c.BoxID
	}
	c.MQTT.HeartbeatSeconds = cmp.Or(c.MQTT.HeartbeatSeconds, DefaultHeartbeatSeconds)
	c.MQTT.SpoolDir = cmp.Or(c.MQTT.SpoolDir, DefaultSpoolDir)
	c.MQTT.HomeAssistant.applyDefaults()
	c.applyOutputDefaults()
	c.Audit.applyDefaults()
	c.HTTP.applyDefaults()
	c.DetectPool.applyDefaults()
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		cam.Transport = cmp.Or(cam.Transport, DefaultTransport)
		if cam.Enabled == nil {
			t := true
			cam.Enabled = &t
		}
		cam.Detect.FPS = cmp.Or(cam.Detect.FPS, DefaultFPS)
		cam.Detect.Width = cmp.Or(cam.Detect.Width, DefaultWidth)
		cam.Detect.Upscale = cmp.Or(cam.Detect.Upscale, 1)
		cam.Detect.Kind = cmp.Or(cam.Detect.Kind, "hog")
		cam.Detect.MinScore = cmp.Or(cam.Detect.MinScore, defaultMinScore(cam.Detect.Kind))
		cam.Detect.PersonHeight = cmp.Or(cam.Detect.PersonHeight, zones.DefaultPersonHeight)
	}
}

// IsEnabled reports whether the camera should run; absent means enabled.
func (c *Camera) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Camera returns the camera with the given id.
func (c *Config) Camera(id string) (*Camera, bool) {
	for i := range c.Cameras {
		if c.Cameras[i].ID == id {
			return &c.Cameras[i], true
		}
	}
	return nil, false
}

// EnabledCameras returns pointers to the cameras that should run, in file order.
func (c *Config) EnabledCameras() []*Camera {
	var out []*Camera
	for i := range c.Cameras {
		if c.Cameras[i].IsEnabled() {
			out = append(out, &c.Cameras[i])
		}
	}
	return out
}

// Topics is the prefix of every topic this box publishes:
// {topic_prefix}/{site}/{box_id}.
func (c *Config) Topics() string { return events.Prefix(c.MQTT.TopicPrefix, c.Site, c.BoxID) }

// BrokerList is Broker or Brokers; empty means the embedded broker.
func (m *MQTT) BrokerList() []string {
	if m.Broker != "" {
		return []string{m.Broker}
	}
	return m.Brokers
}

var notLevel = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// defaultBoxID is "<site>-<host>" with every character a topic level may not
// hold turned into '-', cut to 64 characters.
func defaultBoxID(site string) string {
	host, _ := os.Hostname()
	id := site
	if h := notLevel.ReplaceAllString(host, "-"); h != "" {
		id += "-" + h
	}
	if len(id) > 64 {
		id = id[:64]
	}
	return id
}

// defaultMinScore is min_score's default for a detector kind.
func defaultMinScore(kind string) float64 {
	if kind == "dnn" {
		return DefaultDNNMinScore
	}
	return DefaultMinScore
}
