package configs_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/zones"
)

// TestPolygonPointLimit: a 200,000-point privacy polygon kept `edge config
// check` busy for 116 s; now it is refused at once, naming the limit.
func TestPolygonPointLimit(t *testing.T) {
	for _, c := range []struct {
		n  int
		ok bool
	}{{zones.MaxPoints, true}, {zones.MaxPoints + 1, false}, {200000, false}} {
		c2 := mustValid(t)
		zone(c2, "door").Polygon = nil
		pts := make([][]float64, c.n)
		for i := range pts {
			a := 2 * math.Pi * float64(i) / float64(c.n)
			pts[i] = []float64{0.3 + 0.1*math.Cos(a), 0.3 + 0.1*math.Sin(a)}
		}
		zone(c2, "door").Polygon = pts
		start := time.Now()
		err := c2.Validate()
		took := time.Since(start)
		if c.ok != (err == nil) {
			t.Fatalf("%d points: %v", c.n, err)
		}
		if !c.ok && (!strings.Contains(err.Error(), "1000 points") || took > 2*time.Second) {
			t.Errorf("%d points: refused in %v with %v; want at once, naming the limit", c.n, took, err)
		}
		t.Logf("%d points: %v in %v", c.n, err != nil, took.Round(time.Millisecond))
	}
}

func TestConfigSizeLimit(t *testing.T) {
	big := validYAML + "\n# " + strings.Repeat("x", configs.MaxBytes) + "\n"
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := configs.Load(p)
	if !errors.Is(err, configs.ErrTooLarge) || !strings.Contains(err.Error(), "10 MB") {
		t.Errorf("Load of %d bytes: %v, want ErrTooLarge naming 10 MB", len(big), err)
	}
	if _, err := configs.LoadBytes([]byte(big)); !errors.Is(err, configs.ErrTooLarge) {
		t.Errorf("LoadBytes: %v, want ErrTooLarge", err)
	}
	if _, err := configs.LoadBytes([]byte(validYAML)); err != nil {
		t.Fatal(err)
	}
}
