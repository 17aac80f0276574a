package events_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/events"
)

func sampleEvent() events.Event {
	return events.Event{
		ID:        "0190c1d2-0000-7000-8000-000000000001",
		Type:      events.TypeEnter,
		Site:      "hq",
		Camera:    "lobby",
		Zone:      "door",
		SignageID: "sign-1",
		Purpose:   "safety",
		Label:     events.LabelPerson,
		TrackID:   7,
		Score:     0.875,
		Box:       [4]float64{0.25, 0.5, 0.125, 0.25},
		TS:        time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CST", 8*3600)),
		Occupancy: 2,
	}
}

func TestEventJSON(t *testing.T) {
	withSnap := sampleEvent()
	withSnap.Snapshot = "snap/1.jpg"
	tests := []struct {
		name string
		ev   events.Event
		want string
	}{
		{"plain", sampleEvent(), `{"id":"0190c1d2-0000-7000-8000-000000000001","type":"enter","site":"hq","camera":"lobby","zone":"door","signage_id":"sign-1","purpose":"safety","label":"person","track_id":7,"score":0.875,"box":[0.25,0.5,0.125,0.25],"occupancy":2,"ts":"2024-05-05T23:08:09.123456789Z"}`},
		{"snapshot", withSnap, `{"id":"0190c1d2-0000-7000-8000-000000000001","type":"enter","site":"hq","camera":"lobby","zone":"door","signage_id":"sign-1","purpose":"safety","label":"person","track_id":7,"score":0.875,"box":[0.25,0.5,0.125,0.25],"occupancy":2,"snapshot":"snap/1.jpg","ts":"2024-05-05T23:08:09.123456789Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ev.Payload()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("payload\n got %s\nwant %s", got, tc.want)
			}
			var back events.Event
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if !back.TS.Equal(tc.ev.TS) {
				t.Fatalf("ts round trip: got %v want %v", back.TS, tc.ev.TS)
			}
			back.TS = tc.ev.TS
			if back != tc.ev {
				t.Fatalf("round trip: got %+v want %+v", back, tc.ev)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name     string
		msg      events.Message
		topic    string
		payload  string // checked when not empty
		retained bool
		spooled  bool
	}{
		{"event", sampleEvent(), "edge/lobby/events", "", false, true},
		{"occupancy", events.Occupancy{Camera: "lobby", Zone: "door", Count: 3}, "edge/lobby/door/occupancy", "3", true, false},
		{"occupancy zero", events.Occupancy{Camera: "lobby", Zone: "door"}, "edge/lobby/door/occupancy", "0", true, false},
		{"state", events.State{Camera: "lobby", Status: events.StatusStreaming}, "edge/lobby/state", "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.msg.Topic("edge"); got != tc.topic {
				t.Errorf("topic %q, want %q", got, tc.topic)
			}
			p, err := tc.msg.Payload()
			if err != nil {
				t.Fatal(err)
			}
			if tc.payload != "" && string(p) != tc.payload {
				t.Errorf("payload %q, want %q", p, tc.payload)
			}
			if tc.msg.Retained() != tc.retained || tc.msg.Spooled() != tc.spooled {
				t.Errorf("retained/spooled %v/%v, want %v/%v", tc.msg.Retained(), tc.msg.Spooled(), tc.retained, tc.spooled)
			}
		})
	}
	if got := events.AvailabilityTopic("edge"); got != "edge/available" {
		t.Errorf("availability topic %q", got)
	}
}

func TestStateJSON(t *testing.T) {
	st := events.State{
		Camera: "lobby", Status: events.StatusError,
		Reason: `dial rtsp://admin:hunter2@10.0.0.5:554/stream: connection refused`,
		Codec:  "h264", Width: 1920, Height: 1080, InputFPS: 25, ProcessedFPS: 5,
		FramesDecoded: 100, FramesMasked: 100, FramesDropped: 3,
		Drops: map[string]uint64{"ingest": 1, "mask": 2},
		Zones: []events.ZoneState{
			{ID: "bath", Kind: "privacy"},
			{ID: "door", Kind: "monitored", SignageID: "sign-1", SignageStatus: events.SignageValid, DetectionActive: true, Occupancy: 2},
		},
		TS: time.Date(2024, 5, 6, 7, 8, 9, 5e8, time.UTC),
	}
	got, err := st.Payload()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"camera":"lobby","status":"error","reason":"dial rtsp://***@10.0.0.5:554/stream: connection refused","codec":"h264","width":1920,"height":1080,"input_fps":25,"processed_fps":5,"frames_decoded":100,"frames_masked":100,"frames_dropped":3,"drops":{"ingest":1,"mask":2},"zones":[{"id":"bath","kind":"privacy","detection_active":false,"occupancy":0},{"id":"door","kind":"monitored","signage_id":"sign-1","signage_status":"valid","detection_active":true,"occupancy":2}],"ts":"2024-05-06T07:08:09.5Z"}`
	if string(got) != want {
		t.Fatalf("state\n got %s\nwant %s", got, want)
	}
	if strings.Contains(string(got), "hunter2") {
		t.Fatal("password published")
	}

	empty, err := events.State{Camera: "c", Status: events.StatusConnecting}.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(empty), `"drops":{}`) || !strings.Contains(string(empty), `"zones":[]`) || strings.Contains(string(empty), "reason") {
		t.Fatalf("empty state: %s", empty)
	}
}

func TestNewIDUniqueAndOrdered(t *testing.T) {
	const n = 1000
	ids := make([]string, n)
	seen := make(map[string]bool, n)
	for i := range ids {
		ids[i] = events.NewID()
		if seen[ids[i]] {
			t.Fatalf("duplicate id %s", ids[i])
		}
		seen[ids[i]] = true
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids are not time-ordered")
	}
}

func TestEventRoundsBoxAndScore(t *testing.T) {
	e := events.Event{ID: "x", Score: 0.87654321, Box: [4]float64{0.123456789, 1.0 / 3, 0.99999, 0.00004}, TS: time.Unix(0, 0)}
	b, err := e.Payload()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"score":0.877`, `"box":[0.1235,0.3333,1,0]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("payload %s lacks %s", b, want)
		}
	}
}

type answer struct {
	got []events.Message
	ok  bool
}

func (a *answer) Offer(m events.Message) bool { a.got = append(a.got, m); return a.ok }

// TestTap: the observer sees each message before the next sink, which gets
// it unchanged and whose answer (taken or dropped) the tap returns.
func TestTap(t *testing.T) {
	for _, ok := range []bool{true, false} {
		next := &answer{ok: ok}
		var seen []events.Message
		tap := events.Tap{Observe: func(m events.Message) {
			if len(next.got) != len(seen) {
				t.Error("the next sink got a message before the observer")
			}
			seen = append(seen, m)
		}, Next: next}
		ev := events.Event{Camera: "lobby", Zone: "door", Type: events.TypeEnter}
		if got := tap.Offer(ev); got != ok {
			t.Errorf("Offer = %v, want the next sink's %v", got, ok)
		}
		if len(seen) != 1 || len(next.got) != 1 || next.got[0] != events.Message(ev) {
			t.Errorf("observer saw %v, next got %v; want the event once each", seen, next.got)
		}
	}
}
