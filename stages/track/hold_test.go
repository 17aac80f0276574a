package track_test

import (
	"image"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// hall is a 640x480 frame wholly one signed zone but for a 40 px strip at
// the right edge.
func hall() *zones.Set {
	zs := []zones.Zone{{ID: "hall", Kind: zones.Monitored, Signage: "s1", Polygon: poly(0, 0, 0.9375, 0, 0.9375, 1, 0, 1)}}
	return zones.NewSet(zs, map[string]zones.Sign{"s1": {ID: "s1", VerifiedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}})
}

// walker is a 40x120 box whose feet are at (x, y).
func walker(x, y float64, score float64) track.Detection {
	return track.Detection{Rect: image.Rect(int(x)-20, int(y)-120, int(x)+20, int(y)), Score: score}
}

const fps = 5

func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Second / fps) }

// inHall runs a tracker of hall() over frames frames of a 640x480 picture,
// frame i at at(i) holding dets(i), and returns it with its transitions.
func inHall(frames int, dets func(i int) []track.Detection) (*track.Tracker, []track.Transition) {
	tr := track.New(track.Config{Zones: hall()})
	var got []track.Transition
	for i := range frames {
		got = append(got, tr.Update(dets(i), image.Pt(640, 480), at(i), []string{"hall"})...)
	}
	return tr, got
}

// TestMissedPersonKeepsOneTrack: a person walking through the hall is missed
// by the detector for 1.5 s in the middle; they keep one id, enter once and
// exit once, when their feet leave the zone.
func TestMissedPersonKeepsOneTrack(t *testing.T) {
	tr := track.New(track.Config{Zones: hall()})
	size := image.Pt(640, 480)
	act := []string{"hall"}
	var got []track.Transition
	ids := map[int]bool{}
	// 60 px a second along y=300, from x=50 to x=630 (the zone ends at 600).
	for i := 0; i*12+50 <= 630; i++ {
		x := float64(50 + i*12)
		var dets []track.Detection
		if i < 20 || i >= 20+fps*3/2 { // missed from 4 s to 5.5 s
			dets = []track.Detection{walker(x, 300, 0.9)}
		}
		for _, tn := range tr.Update(dets, size, at(i), act) {
			got = append(got, tn)
			ids[tn.TrackID] = true
		}
	}
	if len(got) != 2 || got[0].Type != "enter" || got[1].Type != "exit" || len(ids) != 1 {
		t.Fatalf("want one enter and one exit of one track, got %+v", got)
	}
	// The feet cross x=600 at i=46 (9.2 s): the exit follows once they
	// have been out for DefaultExitAfter (0.4 s), within a frame.
	if d := got[1].At.Sub(t0); d < 9600*time.Millisecond || d > 9800*time.Millisecond {
		t.Errorf("exit at %v, want when the feet have left the zone for 0.4 s (9.6 s to 9.8 s)", d)
	}
}

// TestMissedStandingPersonExitsAfterHold: someone standing still and no
// longer detected (they left behind the camera's back, or sat down) exits
// after the hold time, not before.
func TestMissedStandingPersonExitsAfterHold(t *testing.T) {
	tr := track.New(track.Config{Zones: hall(), Hold: 1500 * time.Millisecond})
	size := image.Pt(640, 480)
	act := []string{"hall"}
	var got []track.Transition
	for i := 0; i < 30; i++ {
		var dets []track.Detection
		if i < 5 {
			dets = []track.Detection{walker(300, 300, 0.9)}
		}
		got = append(got, tr.Update(dets, size, at(i), act)...)
	}
	if len(got) != 2 || got[1].Type != "exit" {
		t.Fatalf("want enter then exit, got %+v", got)
	}
	// Last seen at 0.8 s; exit at the first frame more than 1.5 s later.
	if d := got[1].At.Sub(t0); d != 2400*time.Millisecond {
		t.Errorf("exit at %v, want 2.4 s (last seen 0.8 s + hold 1.5 s, next frame)", d)
	}
}

// TestCrossingPeopleKeepTheirIDs: two people walk towards each other along
// the same line, their boxes overlapping as they pass, one detected weakly
// while hidden; each keeps their id.
func TestCrossingPeopleKeepTheirIDs(t *testing.T) {
	tr, enters := inHall(40, func(i int) []track.Detection {
		a := walker(100+float64(i)*10, 300, 0.9) // rightwards
		b := walker(500-float64(i)*10, 310, 0.9) // leftwards, a little nearer
		if i >= 18 && i <= 22 {
			a.Score = 0.4 // partly hidden behind b
		}
		if i == 20 {
			a.Rect = image.Rect(0, 0, 0, 0) // wholly hidden
		}
		if i%2 == 1 {
			return []track.Detection{b, a}
		}
		return []track.Detection{a, b}
	})
	if len(enters) != 2 {
		t.Fatalf("want two enters, got %+v", enters)
	}
	// Who is where at the end says whether ids were swapped: the enter boxes
	// were the first sightings, a on the left and b on the right.
	left, right := enters[0], enters[1]
	if left.Box[0] > right.Box[0] {
		left, right = right, left
	}
	// At the end a is at x=490 and b at x=110; a's track must be the one on the right.
	end := tr.Update([]track.Detection{walker(500, 300, 0.9), walker(100, 310, 0.9)}, image.Pt(640, 480), at(40), []string{"hall"})
	if len(end) != 0 {
		t.Fatalf("continuing the walk gave %+v", end)
	}
	boxes := tr.Boxes()
	if len(boxes) != 2 {
		t.Fatalf("want two live tracks, got %+v", boxes)
	}
	for _, b := range boxes {
		fx := float64(b.Rect.Min.X+b.Rect.Max.X) / 2
		switch b.ID {
		case left.TrackID:
			if fx < 300 {
				t.Errorf("the person who started left (track %d) is now at x=%.0f: ids swapped", b.ID, fx)
			}
		case right.TrackID:
			if fx > 300 {
				t.Errorf("the person who started right (track %d) is now at x=%.0f: ids swapped", b.ID, fx)
			}
		default:
			t.Errorf("unexpected track %d", b.ID)
		}
	}
}

// TestWeakDetections: weak boxes continue a track through a stretch longer
// than the hold time, and never start one.
func TestWeakDetections(t *testing.T) {
	tr := track.New(track.Config{Zones: hall(), Hold: time.Second})
	size := image.Pt(640, 480)
	act := []string{"hall"}
	var got []track.Transition
	for i := 0; i < 20; i++ {
		s := 0.9
		if i >= 3 {
			s = 0.3
		}
		got = append(got, tr.Update([]track.Detection{walker(200+float64(i)*5, 300, s)}, size, at(i), act)...)
	}
	if len(got) != 1 || got[0].Type != "enter" {
		t.Fatalf("want one enter and no exit while weak boxes follow the person, got %+v", got)
	}
	ghost := track.New(track.Config{Zones: hall()})
	for i := 0; i < 20; i++ {
		if g := ghost.Update([]track.Detection{walker(300, 300, 0.5)}, size, at(i), act); len(g) != 0 {
			t.Fatalf("weak boxes alone raised %+v", g)
		}
	}
}

// TestRetuneChangesHoldAndScore: a reload's hold and track score reach a
// running tracker; its tracks and counts carry on.
func TestRetuneChangesHoldAndScore(t *testing.T) {
	tr := track.New(track.Config{Zones: hall(), Hold: 8 * time.Second})
	size := image.Pt(640, 480)
	act := []string{"hall"}
	var got []track.Transition
	for i := 0; i < 40; i++ {
		var dets []track.Detection
		if i < 10 {
			dets = []track.Detection{walker(300, 300, 0.9)}
		}
		if i == 12 {
			tr.Retune(track.Config{Hold: time.Second, HighScore: 0.95})
		}
		got = append(got, tr.Update(dets, size, at(i), act)...)
	}
	// Last seen at 1.8 s; the 1 s hold applies from the reload on: exit at
	// the first frame more than 1 s after, not 8 s after.
	if len(got) != 2 || got[1].Type != "exit" || got[1].TrackID != got[0].TrackID {
		t.Fatalf("want enter then exit of one track, got %+v", got)
	}
	if d := got[1].At.Sub(t0); d != 3*time.Second {
		t.Errorf("exit at %v, want 3 s (last seen 1.8 s, hold retuned to 1 s, first frame after 2.8 s)", d)
	}
	// A 0.9 box no longer starts a track at track score 0.95.
	for i := 40; i < 50; i++ {
		if tn := tr.Update([]track.Detection{walker(300, 300, 0.9)}, size, at(i), act); len(tn) > 0 {
			t.Fatalf("a 0.9 box started a track after the track score was raised to 0.95: %+v", tn)
		}
	}
}

// TestBeyondRangeHeldLonger: the detector reports no box under 100 px.
// Someone last seen at 105 px (at its limit: walked on out of its range)
// and never found again is held three times the hold, then exits: a
// person who leaves the zone where the detector cannot see them is counted
// that much longer, and no longer. Someone last seen at 140 px (hidden,
// well within its range) exits after the hold.
func TestBeyondRangeHeldLonger(t *testing.T) {
	for _, c := range []struct {
		h    float64
		want time.Duration
	}{{105, 3*2*time.Second + 2*time.Second}, {140, 2*time.Second + 2*time.Second}} {
		tr := track.New(track.Config{Zones: hall(), Hold: 2 * time.Second})
		size := image.Pt(640, 480)
		act := []string{"hall"}
		var got []track.Transition
		for i := 0; i < 60; i++ {
			var dets []track.Detection
			if i < 10 { // seen until 1.8 s
				dets = []track.Detection{sized(300, 300, c.h, 0.9)}
			}
			tr.SetMinHeight(100)
			got = append(got, tr.Update(dets, size, at(i), act)...)
		}
		if len(got) != 2 || got[1].Type != "exit" {
			t.Fatalf("%v px: want enter then exit, got %+v", c.h, got)
		}
		// Last seen at 1.8 s; exit at the first frame more than the hold later.
		if d := got[1].At.Sub(t0); d != c.want {
			t.Errorf("%v px: exit at %v, want %v", c.h, d, c.want)
		}
	}
}
