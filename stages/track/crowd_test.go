package track_test

import (
	"image"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/stages/track"
	"github.com/edgeprivacy/edge/zones"
)

// sized is a box h tall (0.4 h wide) with its feet at (x, y).
func sized(x, y, h, score float64) track.Detection {
	w := 0.4 * h
	return track.Detection{Rect: image.Rect(int(x-w/2), int(y-h), int(x+w/2), int(y)), Score: score}
}

// TestTooTallBoxStartsNoTrack: two people walk through the hall, one far
// from the camera (feet at y=250, 100 px tall) and one near it (y=450, 140
// px), for 8 s; then, with nobody new in the picture, HOG's kind of box
// around a group (300 px tall with its feet at y=400, where a person is
// about 130) comes for 2 s. Learned from the two, it is no one standing
// there: no enter. On a tracker that has seen nobody yet, the same boxes
// are taken (a person of unknown size) and enter: the learning is what
// stops them.
func TestTooTallBoxStartsNoTrack(t *testing.T) {
	size := image.Pt(640, 480)
	act := []string{"hall"}
	big := sized(320, 400, 300, 0.9)
	tr := track.New(track.Config{Zones: hall()})
	enters := 0
	for i := 0; i < 50; i++ {
		dets := []track.Detection{big}
		if i < 40 {
			dets = []track.Detection{sized(100+float64(i)*10, 250, 100, 0.9), sized(500-float64(i)*10, 450, 140, 0.9)}
		}
		for _, tn := range tr.Update(dets, size, at(i), act) {
			if tn.Type == "enter" {
				enters++
				if i >= 40 {
					t.Errorf("the 300 px box entered: %+v", tn)
				}
			}
		}
	}
	if enters != 2 {
		t.Errorf("%d enters, want the two people's", enters)
	}
	fresh := track.New(track.Config{Zones: hall()})
	var got []track.Transition
	for i := 0; i < 10; i++ {
		got = append(got, fresh.Update([]track.Detection{big}, size, at(i), act)...)
	}
	if len(got) != 1 || got[0].Type != "enter" {
		t.Errorf("on a tracker that learned nothing the 300 px box gave %+v, want one enter", got)
	}
}

// TestNewcomerDoesNotTakeALostNeighboursID: a person stands at (300, 300)
// and is no longer detected after 2 s (hidden, or too small for the
// detector), so their track is held; 2 s later a newcomer walks in from
// the right towards where they stood, 150 px from them when first found.
// The newcomer is someone else: a second enter, and the first person is
// still counted. (A lost person found again walks away from where they
// were lost, or stands there; the newcomer walks towards it.)
func TestNewcomerDoesNotTakeALostNeighboursID(t *testing.T) {
	tr, got := inHall(40, func(i int) []track.Detection {
		var dets []track.Detection
		if i < 10 {
			dets = append(dets, walker(300, 300, 0.9))
		}
		if i >= 20 { // from 4 s: 120 px a second leftwards, towards (300, 300)
			dets = append(dets, walker(450-float64(i-20)*24, 330, 0.9))
		}
		return dets
	})
	wantTwoPeople(t, tr, got)
}

// wantTwoPeople fails t unless got is two enters of two tracks and tr
// counts two people in the hall.
func wantTwoPeople(t *testing.T, tr *track.Tracker, got []track.Transition) {
	t.Helper()
	if len(got) != 2 || got[0].Type != "enter" || got[1].Type != "enter" || got[0].TrackID == got[1].TrackID {
		t.Fatalf("want two enters of two tracks, got %+v", got)
	}
	if n := tr.Occupancy()["hall"]; n != 2 {
		t.Errorf("occupancy %d, want 2", n)
	}
}

// TestFoundAgainWhereLastSeen: a person walks at 150 px a second (a brisk
// walk for someone 120 px tall), stops and is hidden at that moment for a
// second, and is found again standing where they stopped. The track's
// prediction walked on, over 100 px past them; they are the lost person
// all the same (they are where it last saw them): one enter.
func TestFoundAgainWhereLastSeen(t *testing.T) {
	_, got := inHall(30, func(i int) []track.Detection {
		switch {
		case i <= 10: // 30 px a frame to x=400 at 2 s
			return []track.Detection{sized(100+float64(i)*30, 300, 120, 0.9)}
		case i > 15: // hidden 2.2 s to 3 s, then standing at x=400
			return []track.Detection{sized(400, 300, 120, 0.9)}
		}
		return nil
	})
	if len(got) != 1 || got[0].Type != "enter" {
		t.Fatalf("want one enter, got %+v", got)
	}
}

// TestWalksOutOfThePicture: where a zone reaches the edge of the picture, a
// person walking out over it is gone once their predicted feet are past
// the edge: no exit delay (which is for feet jittering across a zone's
// edge inside the picture, and would count them 0.4 s longer).
func TestWalksOutOfThePicture(t *testing.T) {
	zs := []zones.Zone{{ID: "all", Kind: zones.Monitored, Signage: "s1", Polygon: poly(0, 0, 1, 0, 1, 1, 0, 1)}}
	set := zones.NewSet(zs, map[string]zones.Sign{"s1": {ID: "s1", VerifiedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)}})
	tr := track.New(track.Config{Zones: set})
	size := image.Pt(640, 480)
	act := []string{"all"}
	var got []track.Transition
	for i := 0; i < 30; i++ {
		var dets []track.Detection
		if x := 300 + float64(i)*24; x <= 620 { // 120 px a second; last seen at i=13 (2.6 s), feet at x=612
			dets = []track.Detection{walker(x, 300, 0.9)}
		}
		got = append(got, tr.Update(dets, size, at(i), act)...)
	}
	if len(got) != 2 || got[1].Type != "exit" {
		t.Fatalf("want enter then exit, got %+v", got)
	}
	// Predicted feet: x=636 at 2.8 s, x=660 at 3.0 s.
	if d := got[1].At.Sub(t0); d != 3*time.Second {
		t.Errorf("exit at %v, want 3 s (the first frame the predicted feet are past the picture's edge)", d)
	}
}

// TestLongLostDoesNotTakeAFarNewcomer: a person stands at (200, 300) and
// is no longer detected after 2 s (hidden in a group, or out of the
// detector's range), so their track is held; 4 s later someone is found
// two heights (240 px) from there, walking away from it. A person lost
// for a second may have walked on that far unseen; one lost for 4 s where
// the detector could see them walking stood still, and is found where
// they were lost: the newcomer enters, and the first person is still
// counted. (With a reach that grew for as long as the track was unseen,
// the newcomer took the lost id: one enter, a count of 1.)
func TestLongLostDoesNotTakeAFarNewcomer(t *testing.T) {
	tr, got := inHall(40, func(i int) []track.Detection {
		var dets []track.Detection
		if i < 10 {
			dets = append(dets, walker(200, 300, 0.9))
		}
		if i >= 30 { // from 6 s: 60 px a second rightwards, away from (200, 300)
			dets = append(dets, walker(440+float64(i-30)*12, 300, 0.9))
		}
		return dets
	})
	wantTwoPeople(t, tr, got)
}
