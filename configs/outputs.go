package configs

import (
	"cmp"
	"fmt"
	"log/slog"
	"strings"

	"github.com/edgeprivacy/edge/internal/redact"
)

// Defaults of the masked outputs (restream, snapshots, recordings).
const (
	DefaultRestreamAddr  = "127.0.0.1:8554"
	DefaultEncodeBitrate = 2000 // kbit/s
	// MinEncodeBitrate is the lowest bitrate accepted: below it x264 drags
	// picture from around a privacy zone into its fill, and a recording of a
	// correctly masked stream fails edge verify (measured at 640x360, 10
	// fps: 100-400 kbit/s fail, 600 and 800 pass; internal/verify
	// TestOwnLowBitrate).
	MinEncodeBitrate      = 800 // kbit/s
	DefaultEncodeFPS      = 15.0
	DefaultRecordDir      = "./recordings"
	DefaultSegmentSeconds = 60
	DefaultRecordMaxBytes = 10 << 30 // 10 GiB per camera
	DefaultRecordMaxDays  = 7
	// DefaultSnapshotRetainSeconds is how long a retained snapshot stays on
	// the broker: long enough to look at an enter, not to keep a gallery.
	DefaultSnapshotRetainSeconds = 300
)

// Restream is the RTSP server of masked streams, one per `edge run`. It
// serves rtsp://Addr/<camera> for cameras with restream: true.
type Restream struct {
	// Addr is the listen address. It defaults to 127.0.0.1:8554 (loopback:
	// nothing is exposed until an operator chooses an address).
	Addr string `mapstructure:"addr"`
	// Username and Password, when Username is set, are required from every
	// viewer (RTSP basic or digest auth). The password is never logged.
	Username string `mapstructure:"username"`
	Password string `mapstructure:"password"`
	// AllowAnonymous lets an address other machines can reach serve
	// without credentials; without it such an address needs Username and
	// Password.
	AllowAnonymous bool `mapstructure:"allow_anonymous"`
}

// Encode tunes the H.264 encoding of a camera's masked stream, shared by its
// restream and its recordings.
type Encode struct {
	// BitrateKbps is the target bitrate, MinEncodeBitrate..50000. It
	// defaults to 2000.
	BitrateKbps int `mapstructure:"bitrate_kbps"`
	// FPS is the fallback frame rate, 0 < fps <= 60: the encoder codes and
	// announces the camera's own rate, read from its first two frames'
	// timestamps, and uses FPS only when those show none. It defaults to 15.
	FPS float64 `mapstructure:"fps"`
	// Width downscales to this width (aspect kept); 0 keeps the camera's
	// size. 64..7680 and even when set.
	Width int `mapstructure:"width"`
}

// Snapshots publishes a masked JPEG on every enter event.
type Snapshots struct {
	// Enabled turns snapshots on (default off).
	Enabled bool `mapstructure:"enabled"`
	// Crop cuts the snapshot to the person's box with a margin, instead of
	// the whole (masked) frame.
	Crop bool `mapstructure:"crop"`
	// RetainSeconds is how long the retained snapshot stays on the broker
	// before it is cleared (audited), 1..86400. It defaults to 300.
	RetainSeconds int `mapstructure:"retain_seconds"`
}

// Record writes masked MP4 segments of the encoded stream.
type Record struct {
	// Enabled turns recording on (default off). Some laws allow live
	// viewing but not storage: keep it off there.
	Enabled bool `mapstructure:"enabled"`
	// Dir holds one folder per camera. It defaults to ./recordings.
	Dir string `mapstructure:"dir"`
	// SegmentSeconds is the length of one file, 2..3600. It defaults to 60.
	SegmentSeconds int `mapstructure:"segment_seconds"`
	// MaxBytes caps the camera's recordings; the oldest go first. It
	// defaults to 10 GiB; it must be at least 1 MiB.
	MaxBytes int64 `mapstructure:"max_bytes"`
	// MaxDays deletes recordings older than this many days. It defaults to 7.
	MaxDays int `mapstructure:"max_days"`
}

// Encodes reports whether the camera needs the encoder stage.
func (c *Camera) Encodes() bool { return c.Restream || c.Record.Enabled }

func (c *Config) applyOutputDefaults() {
	c.Restream.Addr = cmp.Or(c.Restream.Addr, DefaultRestreamAddr)
	for i := range c.Cameras {
		cam := &c.Cameras[i]
		cam.Encode.BitrateKbps = cmp.Or(cam.Encode.BitrateKbps, DefaultEncodeBitrate)
		cam.Encode.FPS = cmp.Or(cam.Encode.FPS, DefaultEncodeFPS)
		cam.Snapshots.RetainSeconds = cmp.Or(cam.Snapshots.RetainSeconds, DefaultSnapshotRetainSeconds)
		r := &cam.Record
		r.Dir = cmp.Or(r.Dir, DefaultRecordDir)
		r.SegmentSeconds = cmp.Or(r.SegmentSeconds, DefaultSegmentSeconds)
		r.MaxBytes = cmp.Or(r.MaxBytes, DefaultRecordMaxBytes)
		r.MaxDays = cmp.Or(r.MaxDays, DefaultRecordMaxDays)
	}
}

func (r *Restream) validate(v *validator) {
	checkListenAddr(v, "restream.addr", r.Addr, "127.0.0.1:8554 (0.0.0.0:8554 to serve the network)")
	checkListenAuth(v, "restream", r.Addr, r.Username, r.Password, r.AllowAnonymous)
}

func (c *Camera) validateOutputs(v *validator, p string) {
	e := c.Encode
	if e.BitrateKbps < MinEncodeBitrate || e.BitrateKbps > 50000 {
		v.add(p+".encode.bitrate_kbps", fmt.Sprintf("use %d to 50000 kbit/s (default 2000; 720p needs about 1500; less smears picture into privacy fills)", MinEncodeBitrate),
			"bitrate %d is out of range", e.BitrateKbps)
	}
	if !(e.FPS > 0 && e.FPS <= 60) {
		v.add(p+".encode.fps", "use a rate above 0 and at most 60 (default 15)", "fps %v is out of range", e.FPS)
	}
	if e.Width != 0 && (e.Width < 64 || e.Width > 7680 || e.Width%2 != 0) {
		v.add(p+".encode.width", "use an even width from 64 to 7680, or 0 to keep the camera's size", "width %d is not usable", e.Width)
	}
	if s := c.Snapshots.RetainSeconds; s < 1 || s > 86400 {
		v.add(p+".snapshots.retain_seconds", "use 1 to 86400 seconds (default 300)", "retain_seconds %d is out of range", s)
	}
	r := c.Record
	if !r.Enabled {
		return
	}
	if r.SegmentSeconds < 2 || r.SegmentSeconds > 3600 {
		v.add(p+".record.segment_seconds", "use 2 to 3600 seconds (default 60)", "segment length %d is out of range", r.SegmentSeconds)
	}
	if r.MaxBytes < 1<<20 {
		v.add(p+".record.max_bytes", "allow at least 1 MiB (1048576); the default is 10 GiB", "max_bytes %d is too small to hold a segment", r.MaxBytes)
	}
	if r.MaxDays < 0 {
		v.add(p+".record.max_days", "use a number of days of 1 or more (default 7)", "max_days %d is negative", r.MaxDays)
	}
}

// String prints the restream settings with the password hidden.
func (r Restream) String() string {
	return fmt.Sprintf("{addr:%q username:%q password:%q allow_anonymous:%t}", r.Addr, r.Username, redact.Value(r.Password), r.AllowAnonymous)
}

// GoString is String, so that %#v does not print the password either.
func (r Restream) GoString() string { return "configs.Restream" + r.String() }

// LogValue implements slog.LogValuer without the password.
func (r Restream) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", r.Addr), slog.String("username", r.Username),
		slog.String("password", redact.Value(r.Password)), slog.Bool("allow_anonymous", r.AllowAnonymous))
}

// ImageOutputs names the image outputs switched on for the camera, in a
// fixed order: "restream", "record", "snapshots".
func (c *Camera) ImageOutputs() []string {
	var out []string
	if c.Restream {
		out = append(out, "restream")
	}
	if c.Record.Enabled {
		out = append(out, "record")
	}
	if c.Snapshots.Enabled {
		out = append(out, "snapshots")
	}
	return out
}

// validateSignage refuses image outputs without a registered camera sign:
// image collection in public places needs clear signage, and a zone's sign
// covers analysis in that zone, not pictures of the whole view.
func (c *Camera) validateSignage(v *validator, p string, signs map[string]bool) {
	outs := strings.Join(c.ImageOutputs(), ", ")
	switch {
	case c.Signage == "" && outs != "":
		v.add(p+".signage", "register the sign announcing this camera under signage and set "+p+".signage to its id, or turn "+outs+" off",
			"camera %s has %s on but no signage: image outputs need a valid camera sign", c.ID, outs)
	case c.Signage != "" && !signs[c.Signage]:
		fix := fmt.Sprintf("add a sign with id %q to the signage list, or correct the id", c.Signage)
		if outs != "" {
			fix += "; until then " + outs + " cannot run"
		}
		v.add(p+".signage", fix, "camera sign %q is not registered", c.Signage)
	}
}
