package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/stages/record"
)

// TestRecordingOrigin: a segment our recorder wrote names its camera,
// config, build and sign; verify shows them and warns when the config given
// is not the one that recorded.
func TestRecordingOrigin(t *testing.T) {
	cfg := writeConfig(t, zonePoly)
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	hash := hex.EncodeToString(sum[:])
	dir := t.TempDir()
	// The units carry the epoch of the zones they were masked with, as the
	// encoder stage stamps them; the segment names those zones.
	conf, err := configs.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cam, _ := conf.Camera("cam")
	stamp := maskepoch.New(cam.PrivacyFingerprint()).Stamp(nil)
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Hour, Origin: func(string) map[string]string {
		return map[string]string{record.TagConfigHash: hash, record.TagRevision: "abc123", record.TagSignage: "camera sign cam-sign: valid"}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	units := make(chan media.AccessUnit, record.QueueSize)
	go func() { done <- rec.Run(ctx, units) }()
	enc, err := encode.New(encode.Config{Width: clipW, Height: clipH, FPS: 10, BitrateKbps: 1000, GOP: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	const n = 10
	for i := range n {
		// A moving gradient with the privacy zone filled black, as the
		// mask stage leaves it.
		pic := make([]byte, clipW*clipH*3)
		for y := range clipH {
			for x := range clipW {
				v := byte(x + y + 8*i)
				if x >= zoneX && x < zoneX+zoneW && y >= zoneY && y < zoneY+zoneH {
					v = 0
				}
				o := (y*clipW + x) * 3
				pic[o], pic[o+1], pic[o+2] = v, v/2, 255-v
			}
		}
		pkts, err := enc.Encode(pic, clipW*3, time.Duration(i)*100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			var nalus h264.AnnexB
			if err := nalus.Unmarshal(p.Data); err != nil {
				t.Fatal(err)
			}
			units <- media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: clipW, Height: clipH, Mask: stamp}
		}
	}
	for deadline := time.Now().Add(10 * time.Second); rec.Stats().Written < n && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
	if len(files) != 1 {
		t.Fatalf("segments %v, want 1", files)
	}
	rep := recordingVerdict(t, cfg, files[0])
	o := rep.Origin
	if o == nil || o.Camera != "cam" || o.ConfigSHA256 != hash || o.Revision != "abc123" || !strings.Contains(o.Signage, "valid") {
		t.Fatalf("origin %+v", o)
	}
	if o.ConfigMatches == nil || !*o.ConfigMatches || o.Warning != "" {
		t.Errorf("same config: matches %v, warning %q", o.ConfigMatches, o.Warning)
	}
	if o.PrivacyZones != cam.PrivacyFingerprint() || o.PrivacyZonesMatch == nil || !*o.PrivacyZonesMatch {
		t.Errorf("same config: privacy zones %q (match %v), want %q", o.PrivacyZones, o.PrivacyZonesMatch, cam.PrivacyFingerprint())
	}
	if _, err := time.Parse(time.RFC3339, o.StartTime); err != nil {
		t.Errorf("start time %q: %v", o.StartTime, err)
	}
	// The same recording checked against another config.
	other := writeConfig(t, "[[0.40, 0.25], [0.90, 0.25], [0.90, 0.61], [0.40, 0.61]]")
	rep = recordingVerdict(t, other, files[0])
	if o := rep.Origin; o.ConfigMatches == nil || *o.ConfigMatches || !strings.Contains(o.Warning, "different config") {
		t.Errorf("other config: %+v", o)
	}
	if o := rep.Origin; o.PrivacyZonesMatch == nil || *o.PrivacyZonesMatch || !strings.Contains(o.Warning, "other privacy zones") {
		t.Errorf("other config's privacy zones: %+v", o)
	}
}
