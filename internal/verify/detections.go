package verify

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"slices"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/internal/jsonfile"
	"github.com/edgeprivacy/edge/pipeline"
	"github.com/edgeprivacy/edge/stages/detect"
	"github.com/edgeprivacy/edge/stages/track"
)

// DetectionLog is every detection result of one run: what the tracker was
// given, frame by frame. Detection is the slow part of a run (minutes of
// HOG on a 45 s clip); the tracker takes milliseconds. With a log, tracker
// and threshold settings are scored in a loop (Replay) instead of one
// detector run each. A log holds the settings that decide what the
// detector saw (fps, width, person height); boxes below MinScore are not in
// it, so a replay can raise min_score but not lower it below the log's.
type DetectionLog struct {
	Video        string  `json:"video"`
	Camera       string  `json:"camera"`
	FPS          float64 `json:"fps"`
	Width        int     `json:"width"`
	Upscale      float64 `json:"upscale,omitempty"` // 0 in logs made before it existed: 1
	PersonHeight float64 `json:"person_height"`
	MinScore     float64 `json:"min_score"`
	// MotionCrops says the run detected as live cameras do (verify
	// --motion-crops), not on the whole area of every frame.
	MotionCrops bool           `json:"motion_crops,omitempty"`
	Results     []LoggedResult `json:"results"`
}

// LoggedResult is one analysed frame: when (seconds from the start of the
// clip), its size, the zones analysed and the boxes found.
type LoggedResult struct {
	Seconds float64     `json:"t_s"`
	Size    [2]int      `json:"size"`
	Active  []string    `json:"active,omitempty"`
	Boxes   []LoggedBox `json:"boxes,omitempty"`
	// MinHeight is detect.Result.MinHeight: the smallest box the detector
	// could report. Logs made before it existed lack it (withMinHeight).
	MinHeight int `json:"min_h,omitempty"`
}

// LoggedBox is a box in frame pixels (x0, y0, x1, y1) and its confidence.
type LoggedBox struct {
	Rect  [4]int  `json:"r"`
	Score float64 `json:"s"`
}

func logResult(r detect.Result, start time.Time) LoggedResult {
	lr := LoggedResult{Seconds: r.At.Sub(start).Seconds(), Size: [2]int{r.Size.X, r.Size.Y}, Active: slices.Clone(r.Active), MinHeight: r.MinHeight}
	for _, b := range r.Boxes {
		lr.Boxes = append(lr.Boxes, LoggedBox{Rect: [4]int{b.Rect.Min.X, b.Rect.Min.Y, b.Rect.Max.X, b.Rect.Max.Y}, Score: b.Score})
	}
	return lr
}

// WriteDetections writes l as JSON to path.
func WriteDetections(path string, l *DetectionLog) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("detection log: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("detection log: %w", err)
	}
	return nil
}

// ReadDetections reads a log WriteDetections wrote.
func ReadDetections(path string) (*DetectionLog, error) {
	var l DetectionLog
	if err := jsonfile.Read(path, &l); err != nil {
		return nil, fmt.Errorf("detection log: %w", err)
	}
	return &l, nil
}

// Replay runs the logged detections through the tracker cam's settings
// give (pipeline.FromConfig, as production builds it), dropping boxes below
// cam's min_score, and returns the events it raises, in seconds from the
// clip's start. start is the wall-clock time of the clip's first frame, for
// signage. It refuses a log whose detector settings differ from cam's, or
// whose min_score is above cam's (the weaker boxes are not in it).
func Replay(l *DetectionLog, conf *configs.Config, cam *configs.Camera, start time.Time) ([]groundtruth.Event, error) {
	d := cam.Detect
	up := max(l.Upscale, 1)
	if d.FPS != l.FPS || d.Width != l.Width || max(d.Upscale, 1) != up || d.PersonHeight != l.PersonHeight {
		return nil, fmt.Errorf("replay: the log was detected at fps %v, width %d, upscale %v, person_height %v; the config asks for %v, %d, %v, %v: record a log with those settings (edge verify --detections)",
			l.FPS, l.Width, up, l.PersonHeight, d.FPS, d.Width, max(d.Upscale, 1), d.PersonHeight)
	}
	if d.MinScore < l.MinScore {
		return nil, fmt.Errorf("replay: min_score %v is below the log's %v: its weaker boxes were not logged", d.MinScore, l.MinScore)
	}
	cc, err := pipeline.FromConfig(conf, cam)
	if err != nil {
		return nil, err
	}
	tc := cc.Track
	tc.Zones = cc.Zones
	return replay(withMinHeight(l, cc, start), tc, d.MinScore, start), nil
}

// withMinHeight returns l, or for a log made before results held
// MinHeight, a copy with it worked out as the detect stage does (the
// analysis region of the frame's time, placed by the log's width and
// upscale, and the detector's window), so an old log replays as a new
// run tracks. Only the hog kind's window is known without a detector;
// for others the copy is left without it.
func withMinHeight(l *DetectionLog, cc pipeline.CameraConfig, start time.Time) *DetectionLog {
	if cc.Detect.Kind != "hog" && cc.Detect.Kind != "" {
		return l
	}
	for _, r := range l.Results {
		if r.MinHeight > 0 {
			return l
		}
	}
	c := *l
	c.Results = slices.Clone(l.Results)
	for i, r := range c.Results {
		if len(r.Active) == 0 {
			continue // nothing was analysed: no detector, no limit
		}
		at := start.Add(time.Duration(r.Seconds * float64(time.Second)))
		am := cc.Zones.AnalysisMask(r.Size[0], r.Size[1], at)
		if p, ok := detect.Plan(am, l.Width, max(l.Upscale, 1)); ok {
			c.Results[i].MinHeight = p.MinHeight(detect.HOGWindow())
		}
	}
	return &c
}

// replay runs l through a tracker of tc, dropping boxes below minScore.
func replay(l *DetectionLog, tc track.Config, minScore float64, start time.Time) []groundtruth.Event {
	tr := track.New(tc)
	var out []groundtruth.Event
	for _, r := range l.Results {
		var dets []track.Detection
		for _, b := range r.Boxes {
			if b.Score >= minScore {
				dets = append(dets, track.Detection{Rect: image.Rect(b.Rect[0], b.Rect[1], b.Rect[2], b.Rect[3]), Score: b.Score})
			}
		}
		at := start.Add(time.Duration(r.Seconds * float64(time.Second)))
		tr.SetMinHeight(r.MinHeight)
		for _, tn := range tr.Update(dets, image.Pt(r.Size[0], r.Size[1]), at, r.Active) {
			out = append(out, groundtruth.Event{T: tn.At.Sub(start).Seconds(), Type: tn.Type, Zone: tn.Zone, Track: tn.TrackID, Occupancy: tn.Occupancy, Feet: groundtruth.FeetOf(tn.Box)})
		}
	}
	return out
}
