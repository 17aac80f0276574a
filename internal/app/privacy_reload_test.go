package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/pion/rtp"
	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
	"github.com/edgeprivacy/edge/internal/mosquittotest"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/replay"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/record"
	"github.com/edgeprivacy/edge/stages/restream"
	"github.com/edgeprivacy/edge/zones"
)

const privacyReloadConfig = `
site: pr
box_id: b1
mqtt: {broker: "%s", topic_prefix: pr, spool_dir: %s}
restream: {addr: "127.0.0.1:%d"}
audit: {dir: %s}
cameras:
  - id: lobby
    url: %s
    signage: cam-sign
    restream: true
    record: {enabled: true, dir: %s, segment_seconds: 60}
    snapshots: {enabled: true, crop: false}
    encode: {fps: 10, bitrate_kbps: 1500}
    detect: {fps: 5, width: 640}
    zones:
      - {id: floor, kind: monitored, signage: floor-sign, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}
%s
signage:
  - {id: cam-sign, purpose: public-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-01-01T00:00:00Z}
  - {id: floor-sign, purpose: crowd-safety, verified_at: 2026-01-01T00:00:00Z, expires_at: 2099-01-01T00:00:00Z}
`

// booth is the privacy zone the reload adds: the top right corner, above
// the walking figure's head (its box starts at 0.375 of the height).
var booth = privacycheck.Polygon{{0.7, 0}, {1, 0}, {1, 0.25}, {0.7, 0.25}}

const boothYAML = `      - {id: booth, kind: privacy, polygon: [[0.7, 0], [1, 0], [1, 0.25], [0.7, 0.25]]}`

// privacyReloadSite starts a replayed camera (the synthetic walk over
// loopback RTSP) and a mosquitto for one edge run of privacyReloadConfig,
// and returns the broker, the run's state folder, its restream port and
// the config with the given extra privacy zone lines.
func privacyReloadSite(t *testing.T) (mq *mosquittotest.Mosquitto, dir string, port int, cfgWith func(privacy string) string) {
	t.Helper()
	testclip.Need(t)
	cam, err := replay.New(replay.Config{Addr: "127.0.0.1:0", Paths: []string{"../../testvideos/synthetic-walk.mp4"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cam.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cam.Close)
	mq = mosquittotest.Start(t)
	dir = t.TempDir()
	port = freeport.TCP(t)
	return mq, dir, port, func(privacy string) string {
		return fmt.Sprintf(privacyReloadConfig, mq.URL(), filepath.Join(dir, "spool"), port, filepath.Join(dir, "audit"), cam.URLs()[0], filepath.Join(dir, "rec"), privacy)
	}
}

// TestPrivacyReloadKeepsTheCamera runs edge on a replayed camera (the
// synthetic walk over loopback RTSP) with restream, recording and
// snapshots, and adds a privacy zone while the walker is tracked. The
// camera's pipeline is not started again and its RTSP session not
// reconnected; the walker is not entered again and leaves under the same
// track id. After the reload is acknowledged, nothing published shows the
// new zone unmasked: a restream viewer's decoded frames, the recording
// segment started at the change (which names the new zones, the one before
// it the old ones) and the next snapshot are all fill there (interior 8 px
// in, each channel within 24 of black: the tolerance of the restream and
// snapshot leak tests, for lossy coding at the zone's edge).
func TestPrivacyReloadKeepsTheCamera(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	mq, dir, port, cfgWith := privacyReloadSite(t)
	recDir := filepath.Join(dir, "rec")
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, cfgWith(""))
	prefix := events.Prefix("pr", "pr", "b1")
	sub := subscribeAll(t, mq.URL(), prefix)
	evs := subscribeEvents(t, mq.URL(), events.EventsTopic(prefix, "lobby"))
	snaps := subscribeSnapshots(t, mq.URL(), events.SnapshotTopic(prefix, "lobby"))

	var (
		starts atomic.Int32
		camMu  sync.Mutex
		pipe   *pipeline.Camera
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, KeyPath: filepath.Join(dir, "key", "device.key"), WatchEvery: 200 * time.Millisecond,
			HTTPAddr: "off", Logger: quietLogger(), OnCamera: func(c *pipeline.Camera) {
				starts.Add(1)
				camMu.Lock()
				pipe = c
				camMu.Unlock()
			}})
	}()
	// The walker enters the floor; the reload comes while they are tracked
	// (before their exit).
	var first events.Event
	until(t, 90*time.Second, "the walker's enter", func() bool {
		for _, e := range evs.all() {
			if e.Type == events.TypeEnter {
				first = e
				return true
			}
		}
		return false
	})
	camMu.Lock()
	before := pipe.Stats()
	camMu.Unlock()
	if slices.ContainsFunc(evs.all(), func(e events.Event) bool { return e.Type == events.TypeExit && e.TrackID == first.TrackID }) {
		t.Fatal("the walker left before the reload: the test cannot tell")
	}
	// A viewer playing since before the change: the reload ends its
	// session, and with it what gortsplib had queued to it under the old
	// zones, before it is acknowledged.
	viewer := playRestream(t, fmt.Sprintf("rtsp://127.0.0.1:%d/lobby", port))
	until(t, 20*time.Second, "the viewer's first packets", func() bool { return viewer.packets.Load() > 0 })
	changed := time.Now()
	writeFile(t, path, cfgWith(boothYAML))
	until(t, 20*time.Second, "the reload accepted", func() bool { return sub.count(events.AlertReloadAccepted) >= 1 })
	acked := time.Now()
	select {
	case err := <-viewer.ended:
		t.Logf("the viewer of before the change: session ended %v after the config was written, %v before the reload's alert arrived: %v",
			viewer.endedAt.Sub(changed), acked.Sub(viewer.endedAt), err)
		if viewer.endedAt.Before(changed) {
			t.Fatalf("the viewer's session ended before the change: %v", err)
		}
	case <-time.After(restream.CloseWait):
		t.Fatalf("the viewer of before the change still plays %v after the reload was acknowledged (%d packets)", restream.CloseWait, viewer.packets.Load())
	}

	// A viewer that connects now sees only frames of the new zones.
	capture := filepath.Join(dir, "restream.mp4")
	captureRestream(t, fmt.Sprintf("rtsp://127.0.0.1:%d/lobby", port), capture)
	if frames, leaky := leakyFrames(t, capture, booth); frames < 10 || leaky != 0 {
		t.Errorf("restream after the reload: %d of %d frames show the new zone unmasked", leaky, frames)
	}

	// The walker leaves under the id they entered with, never entered again
	// meanwhile; the clip loops, and the next walker's enter brings a snapshot.
	until(t, 60*time.Second, "the walker's exit", func() bool {
		return slices.ContainsFunc(evs.all(), func(e events.Event) bool { return e.Type == events.TypeExit && e.TrackID == first.TrackID })
	})
	// The clip loops: the next walker appears at the left edge while the
	// first is still held (hold_seconds) after the right one. An enter
	// anywhere else, or the first walker's track id entered twice, is the
	// reload re-entering them.
	var exitID, between int
	for _, e := range evs.all() {
		switch {
		case e.Type == events.TypeExit && e.TrackID == first.TrackID:
			exitID = e.TrackID
		case e.Type == events.TypeEnter && e.ID != first.ID && (e.TrackID == first.TrackID || e.Box[0] > 0.1):
			between++
		}
	}
	for _, e := range evs.all() {
		t.Logf("event %s track %d at %s (reload acked %s) box %v score %v", e.Type, e.TrackID, e.TS.Format("15:04:05.000"), acked.UTC().Format("15:04:05.000"), e.Box, e.Score)
	}
	if between != 0 || exitID != first.TrackID {
		t.Fatalf("entered %d more times mid-walk, left as track %d: want no second enter and track %d kept", between, exitID, first.TrackID)
	}
	var jpeg []byte
	until(t, 30*time.Second, "a snapshot after the reload", func() bool {
		jpeg = snaps.after(acked)
		return jpeg != nil
	})
	if checked, leaked := leakyJPEG(t, jpeg, booth); checked == 0 || leaked != 0 {
		t.Errorf("snapshot after the reload: %d of %d pixels of the new zone not fill", leaked, checked)
	}

	camMu.Lock()
	after := pipe.Stats()
	camMu.Unlock()
	if n := starts.Load(); n != 1 {
		t.Fatalf("the camera's pipeline started %d times; a privacy change must apply in place", n)
	}
	if after.Reconnects != before.Reconnects || after.Received <= before.Received {
		t.Fatalf("ingest: reconnects %d -> %d, units %d -> %d: the camera's session did not carry on", before.Reconnects, after.Reconnects, before.Received, after.Received)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}

	// The recording: the segment in progress was finished at the change,
	// and the next names the new zones and never shows them unmasked.
	files, _ := filepath.Glob(filepath.Join(recDir, "lobby", "*.mp4"))
	slices.Sort(files)
	var zonesOf []string
	for _, f := range files {
		info, err := mediafile.Probe(f)
		if err != nil {
			t.Fatal(err)
		}
		zonesOf = append(zonesOf, info.Tags[record.TagPrivacyZones])
	}
	want := zones.Fingerprint([]zones.Zone{{ID: "booth", Kind: zones.Privacy, Polygon: zones.Polygon{{X: 0.7, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 0.25}, {X: 0.7, Y: 0.25}}}})
	if len(files) != 2 || zonesOf[0] != "none" || zonesOf[1] != want {
		t.Fatalf("segments %v masked with %q: want one of no zones, then one of %q", files, zonesOf, want)
	}
	if frames, leaky := leakyFrames(t, files[1], booth); frames < 10 || leaky != 0 {
		t.Errorf("recording after the reload: %d of %d frames show the new zone unmasked", leaky, frames)
	}
	if frames, leaky := leakyFrames(t, files[0], booth); frames == 0 || leaky == 0 {
		t.Errorf("the segment before the reload: %d of %d frames leak the booth: the check cannot tell a leak", leaky, frames)
	}
	t.Logf("enter as track %d, exit as %d; ingest units %d -> %d; segments %q", first.TrackID, exitID, before.Received, after.Received, zonesOf)
}

// eventLog collects the events a subscriber receives.
type eventLog struct {
	mu  sync.Mutex
	evs []events.Event
}

func (l *eventLog) all() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.evs)
}

func subscribeEvents(t *testing.T, url, topic string) *eventLog {
	t.Helper()
	l := &eventLog{}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("privacy-reload-events").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		var e events.Event
		if json.Unmarshal(m.Payload(), &e) == nil {
			l.mu.Lock()
			l.evs = append(l.evs, e)
			l.mu.Unlock()
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return l
}

// snapshotLog keeps the snapshots (JPEG payloads) received, with the time.
type snapshotLog struct {
	mu   sync.Mutex
	at   []time.Time
	jpeg [][]byte
}

// after is the first snapshot received after t, or nil.
func (l *snapshotLog) after(t time.Time) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, at := range l.at {
		if at.After(t) && len(l.jpeg[i]) > 0 {
			return l.jpeg[i]
		}
	}
	return nil
}

func subscribeSnapshots(t *testing.T, url, topic string) *snapshotLog {
	t.Helper()
	l := &snapshotLog{}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("privacy-reload-snapshots").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		l.mu.Lock()
		l.at = append(l.at, time.Now())
		l.jpeg = append(l.jpeg, append([]byte(nil), m.Payload()...))
		l.mu.Unlock()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return l
}

// restreamViewer is a gortsplib client playing a restream path over TCP.
type restreamViewer struct {
	packets atomic.Int64
	ended   chan error // the session's end, as Wait returns it
	endedAt time.Time  // set before ended is sent
}

// playRestream plays url, retrying while it is answered 404 (no picture
// yet), and counts the RTP packets received.
func playRestream(t *testing.T, url string) *restreamViewer {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	v := &restreamViewer{ended: make(chan error, 1)}
	tcp := gortsplib.TransportTCP
	deadline := time.Now().Add(30 * time.Second)
	for {
		// A fresh client each time: the server closes the connection of a
		// request it answered 404.
		c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Transport: &tcp, ReadTimeout: 10 * time.Second, WriteTimeout: 5 * time.Second}
		if err := c.Start2(); err != nil {
			t.Fatal(err)
		}
		d, _, err := c.Describe(u)
		if err == nil {
			if err = c.SetupAll(d.BaseURL, d.Medias); err == nil {
				c.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { v.packets.Add(1) })
				_, err = c.Play(nil)
			}
		}
		if err == nil {
			t.Cleanup(c.Close)
			go func() {
				err := c.Wait()
				v.endedAt = time.Now()
				v.ended <- err
			}()
			return v
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("could not play %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// captureRestream records 3 s of url with the ffmpeg CLI (not our code).
func captureRestream(t *testing.T, url, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last []byte
	for ctx.Err() == nil {
		b, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-nostdin", "-y", "-rtsp_transport", "tcp",
			"-i", url, "-t", "3", "-c", "copy", out).CombinedOutput()
		if err == nil {
			return
		}
		last = b
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("ffmpeg could not capture %s: %s", url, last)
}

// leakyFrames decodes path with OpenCV's reader and counts the frames in
// which a pixel of poly (8 px in from its edge) is not black within 24.
func leakyFrames(t *testing.T, path string, poly privacycheck.Polygon) (frames, leaky int) {
	t.Helper()
	vc, err := gocv.VideoCaptureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	defer m.Close()
	for vc.Read(&m) && !m.Empty() {
		checked, leaked := leakyMat(t, m, poly)
		if checked == 0 {
			t.Fatal("the zone's interior is empty: nothing checked")
		}
		frames++
		if leaked > 0 {
			leaky++
		}
	}
	return frames, leaky
}

func leakyJPEG(t *testing.T, b []byte, poly privacycheck.Polygon) (checked, leaked int) {
	t.Helper()
	m, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return leakyMat(t, m, poly)
}

func leakyMat(t *testing.T, m gocv.Mat, poly privacycheck.Polygon) (checked, leaked int) {
	t.Helper()
	px := privacycheck.Interior(privacycheck.Region([]privacycheck.Polygon{poly}, m.Cols(), m.Rows()), 8)
	data, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	res, err := privacycheck.Check(data, px, [3]uint8{}, 24)
	if err != nil {
		t.Fatal(err)
	}
	return res.Checked, res.Leaked
}

// TestRestartUnderOtherZonesDisconnectsViewers: a reload that restarts the
// camera (its mask colour changes) and adds a privacy zone in the same
// edit. The new run has a new mask epoch, which the restream path does not
// watch yet, so the reload itself must end the sessions of viewers playing
// since before it, before it is acknowledged: what gortsplib had queued to
// them was painted with the old zones.
func TestRestartUnderOtherZonesDisconnectsViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test skipped in -short mode")
	}
	mq, dir, port, cfgWith := privacyReloadSite(t)
	path := filepath.Join(dir, "edge.yaml")
	writeFile(t, path, cfgWith(""))
	sub := subscribeAll(t, mq.URL(), events.Prefix("pr", "pr", "b1"))
	var starts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, KeyPath: filepath.Join(dir, "key", "device.key"), WatchEvery: 200 * time.Millisecond,
			HTTPAddr: "off", Logger: quietLogger(), OnCamera: func(*pipeline.Camera) { starts.Add(1) }})
	}()
	viewer := playRestream(t, fmt.Sprintf("rtsp://127.0.0.1:%d/lobby", port))
	until(t, 30*time.Second, "the viewer's first packets", func() bool { return viewer.packets.Load() > 0 })

	restart := strings.Replace(cfgWith(boothYAML), "    restream: true\n", "    restream: true\n    mask: {color: [0, 0, 255]}\n", 1)
	changed := time.Now()
	writeFile(t, path, restart)
	until(t, 20*time.Second, "the reload accepted", func() bool { return sub.count(events.AlertReloadAccepted) >= 1 })
	acked := time.Now()
	if n := starts.Load(); n != 2 {
		t.Fatalf("the camera was started %d times, want 2: the edit must restart it for this test", n)
	}
	select {
	case err := <-viewer.ended:
		t.Logf("viewer's session ended %v after the config was written, %v before the reload's alert arrived: %v",
			viewer.endedAt.Sub(changed), acked.Sub(viewer.endedAt), err)
		if viewer.endedAt.Before(changed) {
			t.Fatalf("the viewer's session ended before the change: %v", err)
		}
	case <-time.After(restream.CloseWait):
		t.Fatalf("the viewer of before the restart under other zones still plays %v after the reload was acknowledged (%d packets)", restream.CloseWait, viewer.packets.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
