package configs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/redact"
	"github.com/edgeprivacy/edge/zones"
)

// biometricModel matches model file names of face, eye, iris, fingerprint or
// plate detectors: the product counts people and must never be pointed at
// biometric features. A name is a weak signal, so this is a guard against
// mistakes, not against intent; the audit log records each model's hash.
var biometricModel = regexp.MustCompile(`(?i)face|eye|smile|iris|finger|plate|retina|biometric`)

// forbiddenPurpose matches uses that are not public safety, so that a free
// purpose_detail cannot widen the purpose. Like biometricModel it is a guard
// against mistakes; the purpose itself comes from a closed list.
// Faces, customers and sales are whole words ("surface", "wholesale"
// are not uses).
var forbiddenPurpose = regexp.MustCompile(`(?i)marketing|advertis\w*|profiling|attendance|identi(ty|fication|fy)|recogni[sz]\w*|demographic\w*|emotion|biometric\w*|\b(faces?|facial|customers?|shoppers?|retail|sales|loyalty|gender)\b`)

// MaxPrivacyCoverage is the share of a camera's view that privacy zones may
// cover before the camera is refused: a camera that sees only private space
// (a changing room, a bathroom) must not be installed at all.
const MaxPrivacyCoverage = 0.95

// idPattern is what ids must look like: they become MQTT topic levels, where
// '/', '+', '#' and spaces would break routing.
var idPattern = events.TopicLevel

const idFix = "use 1 to 64 letters, digits, '_' or '-' (ids are used in MQTT topics)"

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path locates the key, e.g. cameras[lobby].zones[door].polygon.
	Path string
	// Msg says what is wrong.
	Msg string
	// Fix says how to put it right.
	Fix string
	// Point is the offending point of a polygon (counted from 1), or 0.
	Point int
	// Line and Column locate the key (or the point) in the file loaded,
	// 1-based; 0 when unknown (a config not loaded from YAML).
	Line, Column int
}

// String renders the problem on one line.
func (p Problem) String() string {
	s := position{p.Line, p.Column}.String() + p.Path + ": " + p.Msg
	if p.Fix != "" {
		s += "; fix: " + p.Fix
	}
	return s
}

// ValidationError lists every problem found by Validate.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	if n == 1 {
		b.WriteString("1 problem:")
	} else {
		fmt.Fprintf(&b, "%d problems:", n)
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

type validator struct {
	problems []Problem
	ctx      context.Context // nil: never stopped
}

// stopped reports whether the caller gave up (its ctx is done).
func (v *validator) stopped() bool { return v.ctx != nil && v.ctx.Err() != nil }

func (v *validator) add(path, fix, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...), Fix: fix})
}

// checkID adds a problem at path when id (of a what: camera, sign, zone) is
// empty or not a valid id, and reports whether it is usable.
func (v *validator) checkID(path, what, id string) bool {
	switch {
	case id == "":
		v.add(path, "give the "+what+" an id; "+idFix, "%s id is empty", what)
	case !idPattern.MatchString(id):
		v.add(path, idFix, "%s id %q is not a valid id", what, id)
	default:
		return true
	}
	return false
}

// label names a list element in a path: by id when it is a usable id, by
// index (#n) otherwise.
func label(list string, i int, id string) string {
	if idPattern.MatchString(id) {
		return list + "[" + id + "]"
	}
	return list + "[#" + strconv.Itoa(i) + "]"
}

// Validate checks the whole configuration and reports every problem at once
// as a *ValidationError, or nil. Call it after ApplyDefaults.
func (c *Config) Validate() error { return c.ValidateContext(context.Background()) }

// ValidateContext is Validate that stops between cameras and between zones
// once ctx is done, returning an error wrapping ErrStopped: a large config
// (many cameras, 1,000-point polygons) takes seconds to check.
func (c *Config) ValidateContext(ctx context.Context) error {
	v := &validator{ctx: ctx}
	if !idPattern.MatchString(c.Site) {
		v.add("site", "set site to a name for this installation; "+idFix, "site %q is not a valid id", c.Site)
	}
	if !idPattern.MatchString(c.BoxID) {
		v.add("box_id", "set box_id to a stable name for this box; "+idFix, "box id %q is not a valid id", c.BoxID)
	}
	c.MQTT.validate(v)
	c.Restream.validate(v)
	c.Audit.validate(v)
	c.HTTP.validate(v)
	c.DetectPool.validate(v)

	signs := map[string]bool{}
	for i, s := range c.Signage {
		s.validate(v, i, signs)
	}

	if len(c.Cameras) == 0 {
		v.add("cameras", "add at least one camera under cameras (see configs/example.yaml)", "no cameras configured")
	}
	seen := map[string]int{}
	for i := range c.Cameras {
		if ctx.Err() != nil {
			return stopped(ctx)
		}
		c.Cameras[i].validate(v, i, seen, signs)
	}
	if ctx.Err() != nil {
		return stopped(ctx)
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

var brokerSchemes = map[string]bool{"tcp": true, "ssl": true, "ws": true, "wss": true, "mqtt": true, "mqtts": true}

func (m *MQTT) validate(v *validator) {
	if m.Broker != "" && len(m.Brokers) > 0 {
		v.add("mqtt.broker", "keep mqtt.brokers (a list) and remove mqtt.broker, its one-node shorthand", "both mqtt.broker and mqtt.brokers are set")
	}
	seen := map[string]bool{}
	for i, b := range m.BrokerList() {
		key := "mqtt.broker"
		if m.Broker == "" {
			key = fmt.Sprintf("mqtt.brokers[%d]", i)
		}
		if seen[b] {
			v.add(key, "list each node once", "broker %q is listed twice", redact.URL(b))
		}
		seen[b] = true
		const fix = "write it like tcp://host:1883, ssl://host:8883, ws://host:80/mqtt, wss://, mqtt:// or mqtts://, or leave mqtt.broker and mqtt.brokers empty for the embedded broker"
		u, err := url.Parse(b)
		switch {
		case err != nil:
			v.add(key, fix, "broker %q is not a valid URL", redact.URL(b))
		case !brokerSchemes[strings.ToLower(u.Scheme)]:
			v.add(key, fix, "broker %q has unsupported scheme %q", redact.URL(b), u.Scheme)
		case u.Hostname() == "":
			v.add(key, fix, "broker %q has no host", redact.URL(b))
		}
	}
	if !idPattern.MatchString(m.TopicPrefix) {
		v.add("mqtt.topic_prefix", "use one topic level of 1 to 64 letters, digits, '_' or '-', e.g. edge: site and box_id follow it in every topic",
			"topic prefix %q is not a single valid topic level", m.TopicPrefix)
	}
	if m.HeartbeatSeconds < 1 || m.HeartbeatSeconds > 3600 {
		v.add("mqtt.heartbeat_seconds", "use 1 to 3600 seconds; subscribers call a box down after a few missed heartbeats", "heartbeat_seconds %d is out of range", m.HeartbeatSeconds)
	}
	if m.QoS < 0 || m.QoS > 2 {
		v.add("mqtt.qos", "use 0 (at most once), 1 (at least once) or 2 (exactly once)", "qos %d is out of range", m.QoS)
	}
	if m.TLS.Cert != "" && m.TLS.Key == "" {
		v.add("mqtt.tls.key", "set mqtt.tls.key to the private key of mqtt.tls.cert, or remove cert", "tls cert given without a key")
	}
	if m.TLS.Key != "" && m.TLS.Cert == "" {
		v.add("mqtt.tls.cert", "set mqtt.tls.cert to the certificate of mqtt.tls.key, or remove key", "tls key given without a cert")
	}
	m.HomeAssistant.validate(v)
}

func (s *Sign) validate(v *validator, i int, seen map[string]bool) {
	p := label("signage", i, s.ID)
	if v.checkID(p+".id", "sign", s.ID) && seen[s.ID] {
		p = label("signage", i, "") // the id no longer says which one
		v.add(p+".id", "give each sign a unique id", "duplicate sign id %q", s.ID)
	}
	seen[s.ID] = true
	purposeFix := "use one of " + zones.PurposeList() + " (public safety and its named sub-purposes), and say what it means here in purpose_detail"
	switch {
	case strings.TrimSpace(s.Purpose) == "":
		v.add(p+".purpose", purposeFix, "purpose is required (it is carried in every event)")
	case !zones.Purpose(s.Purpose).Allowed():
		v.add(p+".purpose", purposeFix,
			"purpose %q is not allowed: surveillance in public places may serve public safety only", s.Purpose)
	}
	if w := forbiddenPurpose.FindString(s.PurposeDetail); w != "" {
		v.add(p+".purpose_detail", "describe the public-safety use only; "+w+" is never a purpose of this product",
			"purpose_detail %q names %q", s.PurposeDetail, w)
	}
	const timeFix = "set it to an RFC 3339 time, e.g. 2026-01-01T00:00:00Z"
	if s.VerifiedAt.IsZero() {
		v.add(p+".verified_at", timeFix+" (when the sign was last checked in place)", "verified_at is missing")
	}
	if s.ExpiresAt.IsZero() {
		v.add(p+".expires_at", timeFix+" (when the verification lapses)", "expires_at is missing")
	}
	if !s.VerifiedAt.IsZero() && !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(s.VerifiedAt) {
		v.add(p+".expires_at", "set expires_at after verified_at (check the dates are not swapped)",
			"expires_at %s is not after verified_at %s", s.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"), s.VerifiedAt.Format("2006-01-02T15:04:05Z07:00"))
	}
}

func (c *Camera) validate(v *validator, i int, seen map[string]int, signs map[string]bool) {
	p := label("cameras", i, c.ID)
	if v.checkID(p+".id", "camera", c.ID) {
		if j, dup := seen[c.ID]; dup {
			p = label("cameras", i, "") // the id no longer says which one
			v.add(p+".id", "give each camera a unique id", "duplicate camera id %q (also cameras[#%d])", c.ID, j)
		} else {
			seen[c.ID] = i
		}
	}

	const urlFix = "write it like rtsp://user:password@host:554/path (or rtsps://)"
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		v.add(p+".url", urlFix, "url is empty")
	case err != nil:
		// url.Parse's error repeats the input, password included.
		v.add(p+".url", urlFix+"; percent-encode special characters in the password", "url %q is not a valid URL", redact.URL(c.URL))
	case u.Scheme != "rtsp" && u.Scheme != "rtsps":
		v.add(p+".url", urlFix, "url %q has scheme %q, want rtsp or rtsps", redact.URL(c.URL), u.Scheme)
	case u.Hostname() == "":
		v.add(p+".url", urlFix, "url %q has no host", redact.URL(c.URL))
	}

	if c.Transport != "tcp" && c.Transport != "udp" {
		v.add(p+".transport", "use tcp (works through NAT and firewalls) or udp", "unknown transport %q", c.Transport)
	}

	d := c.Detect
	if !(d.FPS > 0 && d.FPS <= 30) {
		v.add(p+".detect.fps", fmt.Sprintf("use a rate above 0 and at most 30 frames a second (default %v)", DefaultFPS), "fps %v is out of range", d.FPS)
	}
	if d.Width < 64 || d.Width > 4096 {
		v.add(p+".detect.width", fmt.Sprintf("use 64 to 4096 pixels (default %d)", DefaultWidth), "width %d is out of range", d.Width)
	}
	if !(d.Upscale >= 1 && d.Upscale <= 4) {
		v.add(p+".detect.upscale", "use a factor from 1 (no enlarging, default) to 4; people shorter than about 100 pixels in the detector's crop need it above 1", "upscale %v is out of range", d.Upscale)
	}
	if !(d.MinScore >= 0 && d.MinScore <= 1) {
		v.add(p+".detect.min_score", fmt.Sprintf("use a confidence between 0 and 1, for every detector kind (default %v, for dnn %v)", DefaultMinScore, DefaultDNNMinScore), "min_score %v is out of range", d.MinScore)
	}
	if !(d.PersonHeight > 0 && d.PersonHeight <= 1) {
		v.add(p+".detect.person_height", fmt.Sprintf("use the height of a standing person near the camera as a fraction of the frame height, above 0 and at most 1 (default %v)", zones.DefaultPersonHeight), "person_height %v is out of range", d.PersonHeight)
	}
	if !(d.TrackScore >= 0 && d.TrackScore <= 1) {
		v.add(p+".detect.track_score", "use a confidence between 0 and 1, at least min_score (0: the default, 0.6)", "track_score %v is out of range", d.TrackScore)
	} else if d.TrackScore > 0 && d.TrackScore < d.MinScore {
		v.add(p+".detect.track_score", "raise track_score to min_score or more, or lower min_score: weaker boxes than min_score are never reported", "track_score %v is below min_score %v", d.TrackScore, d.MinScore)
	}
	if !(d.HoldSeconds >= 0 && d.HoldSeconds <= 60) {
		v.add(p+".detect.hold_seconds", "use 0 (the default, 8 s) to 60 seconds", "hold_seconds %v is out of range", d.HoldSeconds)
	}
	switch d.Kind {
	case "hog":
	case "haar", "dnn":
		for _, f := range []struct{ key, path string }{{"model", d.Model}, {"model_config", d.ModelConfig}} {
			if biometricModel.MatchString(filepath.Base(f.path)) {
				v.add(p+".detect."+f.key, "use a person (full body) detector, e.g. kind: hog, or haarcascade_fullbody.xml; faces and other biometric features are never analysed",
					"model %q looks like a face or biometric detector", filepath.Base(f.path))
			}
		}
		if d.Model == "" {
			v.add(p+".detect.model", "give the path of the model file, or use kind: hog, which needs none", "detector %q needs a model file", d.Kind)
		} else if _, err := os.Stat(d.Model); err != nil {
			v.add(p+".detect.model", "check the path; the file must be readable by edge", "model file %q: %v", d.Model, errors.Unwrap(err))
		} else {
			d.validateModel(v, p)
		}
		if d.ModelConfig != "" {
			if _, err := os.Stat(d.ModelConfig); err != nil {
				v.add(p+".detect.model_config", "check the path, or leave it empty when the model file describes the network", "model config %q: %v", d.ModelConfig, errors.Unwrap(err))
			}
		}
	default:
		v.add(p+".detect.kind", "use hog (default), haar or dnn", "unknown detector kind %q", d.Kind)
	}
	d.validateNetwork(v, p)
	for k, x := range c.Mask.Color {
		if x < 0 || x > 255 {
			v.add(p+".mask.color", "write it as [r, g, b] with each component 0..255", "component %d is %d, out of range", k, x)
		}
	}

	c.validateOutputs(v, p)
	c.validateSignage(v, p, signs)

	zseen := map[string]bool{}
	var privacy []zones.Polygon
	for j := range c.Zones {
		if v.stopped() {
			return // ValidateContext reports it
		}
		if poly, ok := c.Zones[j].validate(v, p, j, zseen, signs); ok && zones.Kind(c.Zones[j].Kind) == zones.Privacy {
			privacy = append(privacy, poly)
		}
	}
	if len(privacy) > 0 && !v.stopped() {
		if cov := zones.Coverage(privacy); cov >= MaxPrivacyCoverage || math.IsNaN(cov) {
			v.add(p+".zones",
				"remove the camera, or narrow the privacy zones if the view really includes public space",
				"privacy zones cover %.0f%% of the view: a camera whose view is wholly private (changing room, bathroom, hotel room) must not be installed",
				cov*100)
		}
	}
}

// validate checks one zone and returns its parsed polygon when it parses.
func (z *Zone) validate(v *validator, cam string, j int, seen map[string]bool, signs map[string]bool) (zones.Polygon, bool) {
	p := cam + "." + label("zones", j, z.ID)
	if v.checkID(p+".id", "zone", z.ID) && seen[z.ID] {
		p = cam + "." + label("zones", j, "")
		v.add(p+".id", "give each zone of a camera a unique id", "duplicate zone id %q", z.ID)
	}
	seen[z.ID] = true

	switch zones.Kind(z.Kind) {
	case zones.Privacy:
		// Signage on a privacy zone is ignored: nothing there is analysed.
	case zones.Monitored:
		switch {
		case z.Signage == "":
			v.add(p+".signage", "set signage to the id of a registered sign in the signage list (analysis needs visible signage)",
				"monitored zone has no signage")
		case !signs[z.Signage]:
			v.add(p+".signage", fmt.Sprintf("add a sign with id %q to the signage list, or correct the id", z.Signage),
				"signage %q is not registered", z.Signage)
		}
	default:
		v.add(p+".kind", "use privacy or monitored (privacy is painted over; monitored is analysed under signage)", "unknown zone kind %q", z.Kind)
	}

	poly, err := zones.ParsePolygon(z.Polygon)
	if err != nil {
		v.add(p+".polygon", polygonFix(err), "%v", err)
		if pe := (*zones.PointError)(nil); errors.As(err, &pe) {
			v.problems[len(v.problems)-1].Point = pe.Point
		}
		return nil, false
	}
	return poly, true
}

func polygonFix(err error) string {
	switch {
	case errors.Is(err, zones.ErrTooFewPoints):
		return "give at least 3 [x, y] points around the area"
	case errors.Is(err, zones.ErrTooManyPoints):
		return fmt.Sprintf("simplify the outline to at most %d points", zones.MaxPoints)
	case errors.Is(err, zones.ErrOutOfRange):
		return "use normalised coordinates between 0 and 1 (fractions of frame width and height, not pixels)"
	case errors.Is(err, zones.ErrZeroArea):
		return "the points must enclose an area; remove repeated or collinear points"
	case errors.Is(err, zones.ErrSelfIntersect):
		return "list the points in order around the outline so that edges do not cross"
	case errors.Is(err, zones.ErrBadPoint):
		return "write each point as [x, y]"
	default:
		return "write the polygon as a list of [x, y] points in 0..1 around the area"
	}
}
