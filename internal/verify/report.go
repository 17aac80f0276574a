package verify

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/groundtruth"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// Modes of a run.
const (
	ModePipeline  = "pipeline"  // the video ran through every production stage
	ModeRecording = "recording" // an existing recording was decoded and leak-checked
)

// Verdicts.
const (
	Pass = "PASS"
	Fail = "FAIL"
	// Inconclusive: nothing leaked in what was checked, but not everything
	// could be checked (a zone too small, frames not decoded, a track not
	// read). Never a pass.
	Inconclusive = "INCONCLUSIVE"
)

// How a pipeline run detected (Report.Detection).
const (
	// DetectWholeArea: the whole analysis area of every frame sampled at
	// detect.fps, as the accuracy figures of docs/accuracy.md are measured.
	DetectWholeArea = "whole analysis area of every sampled frame"
	// DetectMotionCrops: as live cameras detect, on the crops around
	// motion and the people found last (verify --motion-crops).
	DetectMotionCrops = "motion crops, as live cameras (--motion-crops)"
)

// Report is what a verify run found; it is written as report.json.
type Report struct {
	// audit is the config's audit log, where Audit records the report.
	audit configs.Audit

	Tool        string    `json:"tool"`
	Version     string    `json:"version"`
	Build       Build     `json:"build"`
	Mode        string    `json:"mode"`
	GeneratedAt time.Time `json:"generated_at"`
	Site        string    `json:"site"`
	Camera      string    `json:"camera"`
	Config      FileRef   `json:"config"`
	Video       FileRef   `json:"video"`
	// Start is the wall-clock time given to the first frame; signage is
	// judged at Start plus each frame's timestamp.
	Start time.Time `json:"start"`
	// StartSource says where Start came from: "given", or the time verify
	// ran. A recording's own start time is in Origin.
	StartSource string `json:"start_source"`
	// Origin is what a recording says about where it came from (recording
	// mode only).
	Origin *Origin `json:"origin,omitempty"`
	// Tracks are the video tracks checked: in recording mode every one.
	Tracks []Track `json:"tracks"`

	Verdict string   `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
	Notes   []string `json:"notes,omitempty"`

	AccessUnits          int         `json:"access_units"`
	FramesDecoded        int         `json:"frames_decoded"`
	FramesChecked        int         `json:"frames_checked"`
	FramesLeaked         int         `json:"frames_leaked"`
	LeakedPixels         int64       `json:"leaked_pixels"`
	PrivacyPixelsChecked int64       `json:"privacy_pixels_checked"`
	Leaks                []LeakFrame `json:"leaks,omitempty"`
	// LeakSeries is the number of leaked pixels of every checked frame, in
	// checking order (tracks one after the other).
	LeakSeries   []int       `json:"leak_series"`
	DecodeErrors int         `json:"decode_errors"`
	MaskFailed   int         `json:"mask_failed"`
	Sizes        []FrameSize `json:"frame_sizes"`
	Check        LeakRule    `json:"leak_check"`

	// Detection says how the run detected (pipeline mode):
	// DetectWholeArea or DetectMotionCrops.
	Detection      string `json:"detection,omitempty"`
	FramesAnalysed int    `json:"frames_analysed"`
	Detections     int    `json:"detections"`
	// DetectionsBeside counts detections whose feet fall outside every zone
	// although the detector saw only analysable pixels (a box reaching past a
	// zone's edge into the grey part of its crop); not counted, not a violation.
	DetectionsBeside int          `json:"detections_beside_zones"`
	ViolationCount   int          `json:"violation_count"`
	Violations       []Violation  `json:"violations,omitempty"`
	Zones            []*ZoneStats `json:"zones"`
	Events           []Event      `json:"events"`
	// Accuracy scores the events against a ground truth (--truth).
	Accuracy *Accuracy `json:"accuracy,omitempty"`

	DurationSeconds float64  `json:"duration_s"` // stream time of the last frame checked
	ElapsedSeconds  float64  `json:"elapsed_s"`
	ProcessingFPS   float64  `json:"processing_fps"`
	Samples         []Sample `json:"samples"`

	images []SampleImage // rendered by Run, written by Write
}

// FileRef identifies an input by its content.
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// LeakRule is how privacy pixels were judged.
type LeakRule struct {
	Rule string `json:"rule"`
	Fill [3]int `json:"fill_rgb"`
	// SmallestLeakPx is the narrowest leak along a zone edge this run is
	// guaranteed to catch: 1 px when every zone was exact, 2 px on lossy video.
	SmallestLeakPx int    `json:"smallest_leak_px"`
	Checker        string `json:"checker"`
}

// LeakFrame is one frame with private pixels not equal to the fill.
type LeakFrame struct {
	Track      int      `json:"track"`
	Frame      uint64   `json:"frame"`
	Zones      []string `json:"zones,omitempty"`
	PTSSeconds float64  `json:"pts_s"`
	Width      int      `json:"width"`
	Height     int      `json:"height"`
	Pixels     int      `json:"pixels"`
	Checked    int      `json:"checked"`
	First      [2]int   `json:"first_xy"`
	Detail     string   `json:"detail,omitempty"`
}

// FrameSize counts the frames of one resolution.
type FrameSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	Frames int `json:"frames"`
}

// Violation is a detection or event where analysis was not allowed.
type Violation struct {
	Kind   string    `json:"kind"` // unsigned-detection, unsigned-analysis, unsigned-event
	Frame  uint64    `json:"frame"`
	At     time.Time `json:"at"`
	Zone   string    `json:"zone,omitempty"`
	Detail string    `json:"detail"`
}

// ZoneStats is what happened in one zone.
type ZoneStats struct {
	ID      string       `json:"id"`
	Kind    string       `json:"kind"`
	Polygon [][2]float64 `json:"polygon"` // as in the config, fractions of the frame
	// Privacy is what was checked in a privacy zone, and its verdict.
	Privacy       *PrivacyCheck  `json:"privacy,omitempty"`
	Signage       string         `json:"signage,omitempty"`
	Purpose       string         `json:"purpose,omitempty"`
	SignExpires   *time.Time     `json:"sign_expires,omitempty"`
	StatusAtStart string         `json:"signage_status_at_start,omitempty"`
	Status        []StatusChange `json:"signage_status,omitempty"`
	Detections    int            `json:"detections"`
	Enters        int            `json:"enters"`
	Exits         int            `json:"exits"`
	MaxOccupancy  int            `json:"max_occupancy"`
}

// PrivacyCheck is the check of one privacy zone.
type PrivacyCheck struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	Fill    [3]int `json:"fill_rgb"`
	// Pixels and Core are the zone's pixels, and those at least
	// privacycheck.CoreDepth px inside it, per checked frame size ("WxH").
	Pixels         map[string]int `json:"pixels"`
	Core           map[string]int `json:"core_pixels"`
	FramesChecked  int            `json:"frames_checked"`
	FramesTooSmall int            `json:"frames_too_small"`
	PixelsChecked  int64          `json:"pixels_checked"`
	FramesLeaked   int            `json:"frames_leaked"`
	LeakedPixels   int64          `json:"leaked_pixels"`
	SpatialPixels  int64          `json:"spatial_pixels,omitempty"`
	TemporalPixels int64          `json:"temporal_pixels,omitempty"`
	HardPixels     int64          `json:"hard_bound_pixels,omitempty"`
	Lossy          bool           `json:"lossy"`
	MaxNoise       float64        `json:"noise_threshold,omitempty"`
	MaxDeviation   int            `json:"max_deviation"`
	SmallestLeakPx int            `json:"smallest_leak_px"`
}

// Track is one video track of the input.
type Track struct {
	Index         int    `json:"index"`
	Codec         string `json:"codec"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	Default       bool   `json:"default"`
	AccessUnits   int    `json:"access_units"`
	FramesDecoded int    `json:"frames_decoded"`
	FramesChecked int    `json:"frames_checked"`
	Error         string `json:"error,omitempty"`
}

// StatusChange is the signage status from a frame on.
type StatusChange struct {
	At     time.Time `json:"at"`
	Frame  uint64    `json:"frame"`
	Status string    `json:"status"`
}

// Event is one enter or exit the pipeline published.
type Event struct {
	Frame     int64      `json:"frame"` // -1 when not tied to a detection (signage change)
	At        time.Time  `json:"at"`
	Seconds   float64    `json:"t_s"` // since Start
	Type      string     `json:"type"`
	Zone      string     `json:"zone"`
	SignageID string     `json:"signage_id"`
	Purpose   string     `json:"purpose"`
	TrackID   int        `json:"track_id"`
	Occupancy int        `json:"occupancy"`
	Score     float64    `json:"score"`
	Box       [4]float64 `json:"box"`
}

// Sample is a masked frame shown in the report.
type Sample struct {
	Frame      uint64  `json:"frame"`
	PTSSeconds float64 `json:"pts_s"`
	Track      int     `json:"track"`
	File       string  `json:"file"` // JPEG beside the report
	Detections int     `json:"detections"`
	// LeakedPixels is how many leaked pixels the sample's leak map marks.
	LeakedPixels int `json:"leaked_pixels"`
	uri          template.URL
}

//go:embed report.html.tmpl
var reportTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(a, b int) string {
		if b == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
	},
	"sub":         func(a, b float64) float64 { return a - b },
	"placeWindow": func() float64 { return groundtruth.PlaceWindow },
	"entryWindow": func() float64 { return groundtruth.EntryWindow },
	"pos": func(t, total float64) string {
		if total <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.2f", 100*min(max(t/total, 0), 1))
	},
	// rgb is a CSS value: html/template replaces a plain string in a style
	// attribute with ZgotmplZ. The numbers are ints, so nothing can escape.
	"rgb": func(c [3]int) template.CSS {
		return template.CSS(fmt.Sprintf("rgb(%d,%d,%d)", c[0]&255, c[1]&255, c[2]&255))
	},
	"poly": func(p [][2]float64) string {
		var b strings.Builder
		for i, v := range p {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "(%.3f, %.3f)", v[0], v[1])
		}
		return b.String()
	},
	"ts": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.0Z07:00") },
}).Parse(reportTemplate))

// FreshOutDir refuses a report folder that already holds anything: the
// seal signs every file in the folder, so a file put there before (or a
// sample left by an earlier run) would be signed as part of this report.
func FreshOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report folder %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("report folder %s is not empty (%s, ...): give a new folder, since everything in it would be signed as this report", dir, entries[0].Name())
	}
	return nil
}

// Write puts report.json, report.html and the sample JPEGs in dir, which
// is created if needed and must be empty (FreshOutDir). Files are 0640 in a
// 0750 folder (privfile): a report shows masked pictures of a site.
func (r *Report) Write(dir string) error {
	samples := r.images
	if err := FreshOutDir(dir); err != nil {
		return err
	}
	if err := privfile.MkdirAll(dir); err != nil {
		return fmt.Errorf("report directory %s: %w", dir, err)
	}
	r.Samples = r.Samples[:0]
	for _, s := range samples {
		name := fmt.Sprintf("sample-t%d-%06d.jpg", s.Track, s.Frame)
		if err := privfile.WriteFile(filepath.Join(dir, name), s.JPEG); err != nil {
			return fmt.Errorf("write sample: %w", err)
		}
		r.Samples = append(r.Samples, Sample{Frame: s.Frame, Track: s.Track, PTSSeconds: s.PTS.Seconds(), File: name, Detections: s.Detections,
			LeakedPixels: s.LeakedPixels, uri: template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(s.JPEG))})
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := privfile.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n')); err != nil {
		return fmt.Errorf("write report.json: %w", err)
	}
	var html bytes.Buffer
	if err := tmpl.Execute(&html, r.view()); err != nil {
		return fmt.Errorf("render report.html: %w", err)
	}
	if err := privfile.WriteFile(filepath.Join(dir, "report.html"), html.Bytes()); err != nil {
		return fmt.Errorf("write report.html: %w", err)
	}
	return nil
}

// SampleImages returns the rendered sample frames (JPEG): masked frames
// with zone outlines, labels and detection boxes.
func (r *Report) SampleImages() []SampleImage { return r.images }

// SampleImage is a rendered sample frame (JPEG bytes).
type SampleImage struct {
	Track int
	// LeakedPixels is how many pixels the leak map marks (0: no leak).
	LeakedPixels int
	Frame        uint64
	PTS          time.Duration
	JPEG         []byte
	Detections   int
}

type view struct {
	*Report
	Duration  float64
	Images    []viewSample
	Lanes     []lane
	Recording bool
	// Chart is the per-frame leak chart: an SVG polyline in a 1000 x 100
	// box, frames along x, leaked pixels (scaled to the maximum) up y.
	Chart    string
	ChartMax int
	// FirstFrame is the wall-clock time of the first frame as far as it is
	// known: the recording's own start time or "unknown"; in pipeline mode
	// the --start given.
	FirstFrame string
}

type viewSample struct {
	Sample
	URI template.URL
}

type lane struct {
	Zone   string
	Kind   string
	Marks  []Event
	Status string
}

func (r *Report) view() view {
	v := view{Report: r, Recording: r.Mode == ModeRecording}
	v.FirstFrame = r.Start.UTC().Format("2006-01-02 15:04:05Z07:00") + " (" + r.StartSource + ")"
	if v.Recording {
		v.FirstFrame = "unknown (the recording names no start time)"
		if r.Origin != nil && r.Origin.StartTime != "unknown" {
			v.FirstFrame = r.Origin.StartTime + " (from the recording's metadata)"
		}
	}
	for _, n := range r.LeakSeries {
		v.ChartMax = max(v.ChartMax, n)
	}
	if n := len(r.LeakSeries); n > 0 {
		var b strings.Builder
		for i, y := range r.LeakSeries {
			x := 0.0
			if n > 1 {
				x = 1000 * float64(i) / float64(n-1)
			}
			h := 0.0
			if v.ChartMax > 0 {
				h = 100 * float64(y) / float64(v.ChartMax)
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, 100-h)
		}
		v.Chart = strings.TrimSpace(b.String())
	}
	for _, s := range r.Samples {
		v.Images = append(v.Images, viewSample{Sample: s, URI: s.uri})
	}
	v.Duration = r.DurationSeconds
	for _, e := range r.Events {
		v.Duration = max(v.Duration, e.Seconds)
	}
	for _, z := range r.Zones {
		if z.Kind != "monitored" {
			continue
		}
		l := lane{Zone: z.ID, Kind: z.Kind, Status: z.StatusAtStart}
		for _, e := range r.Events {
			if e.Zone == z.ID {
				l.Marks = append(l.Marks, e)
			}
		}
		v.Lanes = append(v.Lanes, l)
	}
	return v
}

// Samples renders the run's sample frames: zone outlines and labels, boxes,
// then the privacy pixels filled again from the independent raster, as JPEG.
func (c *checker) Samples(quality int) ([]SampleImage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []SampleImage
	for _, s := range c.samples {
		img := s.mat.Clone()
		Annotate(&img, c.set, c.cfg.Start.Add(s.pts), s.boxes)
		err := FillPrivacy(img, c.cache, c.fill)
		if err == nil && len(s.leak) > 0 {
			err = LeakMap(img, s.leak)
		}
		var buf *gocv.NativeByteBuffer
		if err == nil {
			buf, err = gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, quality})
		}
		img.Close()
		if err != nil {
			return nil, fmt.Errorf("sample frame %d: %w", s.seq, err)
		}
		out = append(out, SampleImage{Frame: s.seq, Track: s.track, PTS: s.pts, JPEG: bytes.Clone(buf.GetBytes()), Detections: len(s.boxes), LeakedPixels: len(s.leak)})
		buf.Close()
	}
	return out, nil
}
