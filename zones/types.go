package zones

import "time"

// Point is a position in normalised frame coordinates: X and Y in 0..1.
type Point struct{ X, Y float64 }

// Polygon is a simple (non self-intersecting) polygon; the last point joins the first.
type Polygon []Point

// Kind says what a zone is for.
type Kind string

// Zone kinds.
const (
	// Privacy zones are painted over before any stage sees the frame.
	Privacy Kind = "privacy"
	// Monitored zones are analysed while their signage is valid.
	Monitored Kind = "monitored"
)

// Zone is one named area of a camera's view.
type Zone struct {
	ID      string
	Kind    Kind
	Polygon Polygon
	Signage string // sign id; required for Monitored
}

// Sign is a registered surveillance sign that permits analysis where it hangs.
type Sign struct {
	ID       string
	Text     string
	Location string
	Purpose  string
	// PurposeDetail says in free text what the purpose means here, e.g.
	// "occupancy counting for the evacuation plan"; carried in events.
	PurposeDetail string
	Operator      string
	VerifiedAt    time.Time
	ExpiresAt     time.Time
}

// SignStatus is the state of a monitored zone's signage at one moment.
type SignStatus string

// Signage states, as published on MQTT and in reports.
const (
	SignValid   SignStatus = "valid"
	SignExpired SignStatus = "expired"
	SignMissing SignStatus = "missing" // no sign registered under the zone's id
	SignPending SignStatus = "pending" // verified_at lies in the future
)
