package zones_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/zones"
)

func poly(xy ...float64) zones.Polygon {
	p := make(zones.Polygon, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		p = append(p, zones.Point{X: xy[i], Y: xy[i+1]})
	}
	return p
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		p        zones.Polygon
		want     error
		mentions []string // substrings the message must hold
	}{
		{"triangle", poly(0.1, 0.1, 0.9, 0.1, 0.5, 0.9), nil, nil},
		{"full frame", poly(0, 0, 1, 0, 1, 1, 0, 1), nil, nil},
		{"non-convex L", poly(0, 0, 0.5, 0, 0.5, 0.5, 1, 0.5, 1, 1, 0, 1), nil, nil},
		{"empty", nil, zones.ErrTooFewPoints, []string{"got 0"}},
		{"two points", poly(0, 0, 1, 1), zones.ErrTooFewPoints, []string{"got 2"}},
		{"x above 1", poly(0, 0, 1.5, 0, 0.5, 1), zones.ErrOutOfRange, []string{"point 2", "x=1.5"}},
		{"y negative", poly(0, 0, 1, 0, 0.5, -0.25), zones.ErrOutOfRange, []string{"point 3", "y=-0.25"}},
		{"NaN", poly(0, 0, 1, 0, math.NaN(), 1), zones.ErrOutOfRange, []string{"point 3", "NaN"}},
		{"Inf", poly(math.Inf(1), 0, 1, 0, 0.5, 1), zones.ErrOutOfRange, []string{"point 1", "+Inf"}},
		{"collinear", poly(0, 0, 0.5, 0.5, 1, 1), zones.ErrZeroArea, nil},
		{"collinear quad", poly(0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75), zones.ErrZeroArea, nil},
		{"tiny", poly(0.5, 0.5, 0.50001, 0.5, 0.5, 0.50001), zones.ErrZeroArea, []string{"area"}},
		{"bowtie", poly(0, 0, 1, 1, 1, 0, 0, 1), zones.ErrSelfIntersect, []string{"edges 1 and 3"}},
		{"repeated vertex", poly(0, 0, 0.5, 0.5, 1, 0, 1, 1, 0.5, 0.5, 0, 1), zones.ErrSelfIntersect, []string{"points 2 and 5"}},
		{"vertex touches edge", poly(0, 0, 1, 0, 1, 1, 0.5, 0, 0, 1), zones.ErrSelfIntersect, []string{"edges 1 and 3"}},
		{"spike folds back", poly(0, 0, 1, 0, 1, 1, 1, 0.5), zones.ErrSelfIntersect, []string{"edges 2 and 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
			for _, s := range tt.mentions {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestParsePolygon(t *testing.T) {
	tests := []struct {
		name string
		in   [][]float64
		want error
		msg  string
	}{
		{"ok", [][]float64{{0, 0}, {1, 0}, {0, 1}}, nil, ""},
		{"short pair", [][]float64{{0, 0}, {1}, {0, 1}}, zones.ErrBadPoint, "point 2 has 1 numbers"},
		{"long pair", [][]float64{{0, 0}, {1, 0}, {0, 1, 2}}, zones.ErrBadPoint, "point 3 has 3 numbers"},
		{"invalid polygon", [][]float64{{0, 0}, {1, 0}}, zones.ErrTooFewPoints, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := zones.ParsePolygon(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParsePolygon() error = %v, want %v", err, tt.want)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not mention %q", err, tt.msg)
				}
				return
			}
			if len(p) != len(tt.in) || p[1] != (zones.Point{X: 1, Y: 0}) {
				t.Errorf("ParsePolygon() = %v", p)
			}
		})
	}
}

func TestArea(t *testing.T) {
	tests := []struct {
		name string
		p    zones.Polygon
		want float64
	}{
		{"unit square", poly(0, 0, 1, 0, 1, 1, 0, 1), 1},
		{"clockwise square", poly(0, 0, 0, 1, 1, 1, 1, 0), 1},
		{"triangle", poly(0, 0, 1, 0, 0, 1), 0.5},
		{"L shape", poly(0, 0, 0.5, 0, 0.5, 0.5, 1, 0.5, 1, 1, 0, 1), 0.75},
		{"degenerate", poly(0, 0, 1, 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Area(); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Area() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	sq := poly(0.25, 0.25, 0.75, 0.25, 0.75, 0.75, 0.25, 0.75)
	l := poly(0, 0, 0.5, 0, 0.5, 0.5, 1, 0.5, 1, 1, 0, 1)
	tests := []struct {
		name string
		p    zones.Polygon
		pt   zones.Point
		want bool
	}{
		{"centre", sq, zones.Point{X: 0.5, Y: 0.5}, true},
		{"outside left", sq, zones.Point{X: 0.1, Y: 0.5}, false},
		{"outside below", sq, zones.Point{X: 0.5, Y: 0.9}, false},
		{"on edge", sq, zones.Point{X: 0.25, Y: 0.5}, true},
		{"on vertex", sq, zones.Point{X: 0.75, Y: 0.75}, true},
		{"just outside edge", sq, zones.Point{X: 0.7500001, Y: 0.5}, false},
		{"L notch is outside", l, zones.Point{X: 0.75, Y: 0.25}, false},
		{"L arm", l, zones.Point{X: 0.75, Y: 0.75}, true},
		{"L reflex vertex", l, zones.Point{X: 0.5, Y: 0.5}, true},
		{"ray through vertex", l, zones.Point{X: 0.25, Y: 0.5}, true},
		{"empty polygon", nil, zones.Point{X: 0.5, Y: 0.5}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Contains(tt.pt); got != tt.want {
				t.Errorf("Contains(%v) = %v, want %v", tt.pt, got, tt.want)
			}
		})
	}
}
