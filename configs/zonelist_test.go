package configs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
)

// TestZoneListStopsBetweenZones: building a camera checks each polygon
// again (1,000-point zones take tens of milliseconds each); once the
// context is done it stops before the next zone.
func TestZoneListStopsBetweenZones(t *testing.T) {
	cam := configs.Camera{ID: "c"}
	for z := range 20 {
		var pts [][]float64
		cx, cy := 0.05+0.09*float64(z%10), 0.1+0.2*float64(z/10)
		for i := range 1000 {
			a := 2 * math.Pi * float64(i) / 1000
			pts = append(pts, []float64{cx + 0.04*math.Cos(a), cy + 0.04*math.Sin(a)})
		}
		cam.Zones = append(cam.Zones, configs.Zone{ID: fmt.Sprintf("z%d", z), Kind: "privacy", Polygon: pts})
	}
	start := time.Now()
	all, err := cam.ZoneListContext(context.Background())
	if err != nil || len(all) != 20 {
		t.Fatalf("whole list: %d zones, %v", len(all), err)
	}
	whole := time.Since(start)
	ctx := &doneAfter{Context: context.Background(), n: 4} // done at the fourth zone
	start = time.Now()
	zs, err := cam.ZoneListContext(ctx)
	part := time.Since(start)
	if !errors.Is(err, configs.ErrStopped) || zs != nil || !strings.Contains(err.Error(), `camera "c"`) {
		t.Fatalf("stopped after 3 zones: %d zones, %v; want ErrStopped naming the camera", len(zs), err)
	}
	t.Logf("20 zones checked in %v; stopped after 3 in %v", whole, part)
}
