// Package groundtruth holds hand-labelled (or generated) visits of people
// to the zones of a clip, and scores the events of a run against them:
// precision, recall, enters per visit, occupancy error and entry latency.
package groundtruth

import (
	"errors"
	"fmt"

	"github.com/edgeprivacy/edge/internal/jsonfile"
)

// Truth is the ground truth of one clip: every visit of a person to a
// monitored zone within the labelled span [0, Seconds) of the clip.
type Truth struct {
	// Clip names the video the visits were labelled on.
	Clip string `json:"clip"`
	// Config and Camera name the zones the visits refer to.
	Config string `json:"config"`
	Camera string `json:"camera"`
	// Method says how the visits were labelled, and by whom.
	Method string `json:"method"`
	// ToleranceSeconds is how far a labelled time may be off.
	ToleranceSeconds float64 `json:"tolerance_s"`
	// Seconds is the labelled span from the clip's start: only events and
	// visits in [0, Seconds) are scored.
	Seconds float64 `json:"duration_s"`
	Visits  []Visit `json:"visits"`
}

// Visit is one person's stay in one zone: their feet entered at Enter and
// left at Exit (seconds from the clip's start). A person already there when
// the clip starts has Enter 0; one still there at the end has Exit equal to
// Seconds.
type Visit struct {
	Zone   string  `json:"zone"`
	Person string  `json:"person"`
	Enter  float64 `json:"enter_s"`
	Exit   float64 `json:"exit_s"`
	Note   string  `json:"note,omitempty"`
	// At is where the feet were at Enter, x and y in fractions of the
	// frame's width and height (optional): an enter is matched to the
	// visit only near it (PlaceWindow), so enters at one edge of the
	// picture are not scored against entries at another. A visit without
	// it is matched by time alone; a truth may mix both.
	At []float64 `json:"enter_at,omitempty"`
}

// Load reads and checks a truth file.
func Load(path string) (*Truth, error) {
	var t Truth
	if err := jsonfile.Read(path, &t); err != nil {
		return nil, fmt.Errorf("ground truth (see docs/accuracy.md for the format): %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("ground truth %s: %w", path, err)
	}
	return &t, nil
}

// MaxVisits is the most visits a truth file may hold: far more than anyone
// labels by hand, and few enough that scoring stays in memory (an enter is
// paired against every visit within EntryWindow of it).
const MaxVisits = 100_000

// Validate checks that every visit lies within the labelled span.
func (t *Truth) Validate() error {
	if !(t.Seconds > 0) {
		return errors.New("duration_s must be the labelled span in seconds, above 0")
	}
	if len(t.Visits) > MaxVisits {
		return fmt.Errorf("%d visits; a truth file holds at most %d: split the clip into parts and label each", len(t.Visits), MaxVisits)
	}
	var errs []error
	for i, v := range t.Visits {
		if v.Zone == "" {
			errs = append(errs, fmt.Errorf("visit %d: no zone", i))
		}
		if !(v.Enter >= 0 && v.Enter <= v.Exit && v.Exit <= t.Seconds) {
			errs = append(errs, fmt.Errorf("visit %d (%s): want 0 <= enter_s %v <= exit_s %v <= duration_s %v", i, v.Person, v.Enter, v.Exit, t.Seconds))
		}
		if v.At != nil && (len(v.At) != 2 || !(v.At[0] >= 0 && v.At[0] <= 1 && v.At[1] >= 0 && v.At[1] <= 1)) {
			errs = append(errs, fmt.Errorf("visit %d (%s): enter_at %v must be a point [x, y] in fractions of the frame, 0..1", i, v.Person, v.At))
		}
	}
	return errors.Join(errs...)
}
