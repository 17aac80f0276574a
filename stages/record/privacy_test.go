package record_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/edgeprivacy/edge/internal/encode"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/stages/record"
)

// TestPrivacyChangeCutsSegment: units masked under privacy zones a reload
// has replaced, queued for the recorder when the reload is applied, are
// never written (counted StaleMask); a change while recording finishes the
// segment and starts a new one at the new zones' keyframe, and each segment
// names the zones its pictures were masked with (TagPrivacyZones), also to
// Origin.
func TestPrivacyChangeCutsSegment(t *testing.T) {
	testclip.Need(t)
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var n int
	var origins []string
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); n++; return now.Add(time.Duration(n) * time.Second) }
	rec, err := record.New(record.Config{Camera: "cam", Dir: dir, Segment: time.Hour, Now: clock,
		Origin: func(z string) map[string]string {
			mu.Lock()
			defer mu.Unlock()
			origins = append(origins, z)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encode.New(encode.Config{Width: 160, Height: 120, FPS: 10, GOP: time.Hour, BitrateKbps: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	ep := maskepoch.New("none")
	units := make(chan media.AccessUnit, record.QueueSize)
	i := 0
	put := func(stamp maskepoch.Stamp) {
		t.Helper()
		pic := make([]byte, 160*120*3)
		for j := range pic {
			pic[j] = byte(j/3 + i*7)
		}
		pkts, err := enc.Encode(pic, 160*3, time.Duration(i)*100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		i++
		for _, p := range pkts {
			var nalus h264.AnnexB
			if err := nalus.Unmarshal(p.Data); err != nil {
				t.Fatal(err)
			}
			units <- media.AccessUnit{Codec: media.H264, NALUs: nalus, AnnexB: p.Data, PTS: p.PTS, Keyframe: p.Key, Width: 160, Height: 120, Mask: stamp}
		}
	}
	// Queued before the reload, under the old zones (no zones at all).
	old := ep.Stamp(nil)
	for range 5 {
		put(old)
	}
	const zonesB, zonesC = "1 zone sha256:bbbbbbbbbbbbbbbb", "2 zones sha256:cccccccccccccccc"
	ep.Advance(zonesB, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx, units) }()
	wait := func(written uint64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); rec.Stats().Written < written; {
			if time.Now().After(deadline) {
				t.Fatalf("recorder stats %+v, want %d written", rec.Stats(), written)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b := ep.Stamp(nil)
	enc.ForceKey() // as the encoder stage does at a new epoch
	for range 10 {
		put(b)
	}
	wait(10)
	ep.Advance(zonesC, nil)
	c := ep.Stamp(nil)
	enc.ForceKey()
	for range 10 {
		put(c)
	}
	wait(20)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := rec.Stats(); st.StaleMask != 5 || st.Written != 20 {
		t.Fatalf("recorder stats %+v: want the 5 queued old-zone units stale and 20 written", st)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cam", "*.mp4"))
	slices.Sort(files)
	if len(files) != 2 {
		t.Fatalf("%d segments, want 2 (one per set of zones): %v", len(files), files)
	}
	for k, want := range []string{zonesB, zonesC} {
		info, err := mediafile.Probe(files[k])
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Tags[record.TagPrivacyZones]; got != want {
			t.Errorf("segment %d says it was masked with %q, want %q", k, got, want)
		}
		if nf := testclip.CountFrames(t, files[k]); nf != 10 {
			t.Errorf("segment %d holds %d frames, want 10", k, nf)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(origins, []string{zonesB, zonesC}) {
		t.Errorf("Origin asked with %q, want the zones of each segment", origins)
	}
}
