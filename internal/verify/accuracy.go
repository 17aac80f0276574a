package verify

import "github.com/edgeprivacy/edge/internal/groundtruth"

// Accuracy is how the run's events compare with a ground truth.
type Accuracy struct {
	Truth  string `json:"truth"` // the truth file
	Method string `json:"method"`
	groundtruth.Scores
}

// scoreRun scores the events of a run against truth.
func scoreRun(path string, truth *groundtruth.Truth, evs []Event) *Accuracy {
	in := make([]groundtruth.Event, 0, len(evs))
	for _, e := range evs {
		in = append(in, groundtruth.Event{T: e.Seconds, Type: e.Type, Zone: e.Zone, Track: e.TrackID, Occupancy: e.Occupancy, Feet: groundtruth.FeetOf(e.Box)})
	}
	return &Accuracy{Truth: path, Method: truth.Method, Scores: groundtruth.Score(truth, in)}
}
