package snapshot_test

import (
	"bytes"
	"context"
	"image"
	"log/slog"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/maskepoch"
	"github.com/edgeprivacy/edge/internal/privacycheck"
	"github.com/edgeprivacy/edge/internal/yuv"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/stages/snapshot"
	"github.com/edgeprivacy/edge/zones"
)

// maskedFrame reads a real picture from the test clip and masks the left
// quarter through the mask stage (the only way to a *mask.Frame). It also
// returns an unmasked copy, for the check that must fail.
func maskedFrame(t *testing.T) (*mask.Frame, gocv.Mat) {
	t.Helper()
	return maskedFrameIn(t, nil)
}

// maskedFrameIn is maskedFrame stamped with epoch's current epoch (nil: a
// clock of the mask stage's own).
func maskedFrameIn(t *testing.T, epoch *maskepoch.Clock) (*mask.Frame, gocv.Mat) {
	t.Helper()
	vc, err := gocv.VideoCaptureFile("../../testvideos/vtest.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	m := gocv.NewMat()
	if !vc.Read(&m) || m.Empty() {
		m.Close()
		t.Fatal("no frame in the test clip")
	}
	raw := m.Clone()
	set := zones.NewSet([]zones.Zone{{ID: "shop", Kind: zones.Privacy, Polygon: zones.Polygon{{X: 0, Y: 0}, {X: 0.25, Y: 0}, {X: 0.25, Y: 1}, {X: 0, Y: 1}}}}, nil)
	st, err := mask.New(mask.Config{Zones: set, Epoch: epoch, Block: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan decode.Frame, 1), make(chan *mask.Frame, 1)
	pic, err := yuv.FromBGR(m)
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	in <- decode.Frame{Pic: pic}
	close(in)
	if err := st.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	return <-out, raw
}

// TestSnapshotsAreMasked publishes snapshots for enter events and checks
// every private pixel of the decoded JPEG. Tolerance: JPEG codes 8x8 blocks
// (chroma of 4:2:0 in 16x16), so colours bleed across the mask's border;
// the zone is checked shrunk by one block, 8 px, with each channel within
// 24 of the fill. The unmasked picture, encoded the same way, fails.
func TestSnapshotsAreMasked(t *testing.T) {
	f, raw := maskedFrame(t)
	defer f.Close()
	defer raw.Close()
	sink := &edgetest.Sink{}
	cases := []struct {
		name string
		crop bool
		box  [4]float64
	}{
		{"whole frame", false, [4]float64{0.15, 0.3, 0.2, 0.4}},
		{"cropped to a box across the zone's edge", true, [4]float64{0.15, 0.3, 0.2, 0.4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := snapshot.New(snapshot.Config{Camera: "lobby", TopicPrefix: "edge", Crop: c.crop, Sink: sink,
				Frames: holding(t, f)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			before := len(edgetest.Of[events.Snapshot](sink.Messages()))
			ev := events.Event{ID: events.NewID(), Type: events.TypeEnter, Camera: "lobby", Box: c.box}
			s.Offer(ev)
			s.Offer(events.Event{ID: events.NewID(), Type: events.TypeExit, Camera: "lobby"})
			deadline := time.Now().Add(10 * time.Second)
			for len(edgetest.Of[events.Snapshot](sink.Messages())) == before && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			snaps := edgetest.Of[events.Snapshot](sink.Messages())[before:]
			if len(snaps) != 1 {
				t.Fatalf("%d snapshots published, want 1 (enter only)", len(snaps))
			}
			// The forwarded event names the snapshot by the event id.
			var fwd events.Event
			for _, m := range sink.Messages() {
				if e, ok := m.(events.Event); ok && e.ID == ev.ID {
					fwd = e
				}
			}
			if want := "edge/lobby/snapshot#" + ev.ID; fwd.Snapshot != want {
				t.Errorf("event snapshot = %q, want %q", fwd.Snapshot, want)
			}
			payload, err := snaps[0].Payload()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(payload[:64], []byte("event="+ev.ID)) || snaps[0].Topic("edge") != "edge/lobby/snapshot" || !snaps[0].Retained() {
				t.Errorf("snapshot message: topic %q retained %v, id in JPEG comment %v", snaps[0].Topic("edge"), snaps[0].Retained(), bytes.Contains(payload, []byte(ev.ID)))
			}
			// Where the zone lies in the picture, in its own normalised coordinates.
			W, H := f.Size().X, f.Size().Y
			r := image.Rect(0, 0, W, H)
			if c.crop {
				r = snapshot.CropRect(c.box, 0.25, W, H)
			}
			zx := (0.25*float64(W) - float64(r.Min.X)) / float64(r.Dx())
			zone := privacycheck.Polygon{{-1, -1}, {zx, -1}, {zx, 2}, {-1, 2}}
			check := func(jpeg []byte) privacycheck.Result {
				img, err := gocv.IMDecode(jpeg, gocv.IMReadColor)
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				if img.Cols() != r.Dx() || img.Rows() != r.Dy() {
					t.Fatalf("snapshot is %dx%d, want %dx%d", img.Cols(), img.Rows(), r.Dx(), r.Dy())
				}
				data, err := img.DataPtrUint8()
				if err != nil {
					t.Fatal(err)
				}
				px := privacycheck.Interior(privacycheck.Region([]privacycheck.Polygon{zone}, img.Cols(), img.Rows()), 8)
				res, err := privacycheck.Check(data, px, [3]uint8{}, 24)
				if err != nil {
					t.Fatal(err)
				}
				if res.Checked < 100 {
					t.Fatalf("only %d pixels checked", res.Checked)
				}
				return res
			}
			if res := check(payload); res.Leaked != 0 {
				t.Errorf("snapshot leaks %d of %d private pixels, first at %v", res.Leaked, res.Checked, res.First)
			}
			rawImg := raw.Region(r)
			defer rawImg.Close()
			buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, rawImg, []int{gocv.IMWriteJpegQuality, 85})
			if err != nil {
				t.Fatal(err)
			}
			defer buf.Close()
			if res := check(buf.GetBytes()); res.Leaked == 0 {
				t.Error("the same check passes an unmasked picture: it proves nothing")
			}
		})
	}
}
