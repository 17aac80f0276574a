package main

import (
	"fmt"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/zones"
)

// zoneAnnotator returns a function naming the zones of camera camID in the
// config at path that hold a box's feet (its bottom centre), whatever their
// kind or signage: the ground truth says where the figure is, verify decides
// what may be analysed there.
func zoneAnnotator(path, camID string) (func(box) []string, error) {
	cfg, err := configs.Load(path)
	if err != nil {
		return nil, err
	}
	cam, ok := cfg.Camera(camID)
	if !ok {
		return nil, fmt.Errorf("-camera %q is not in %s", camID, path)
	}
	zl, err := cam.ZoneList()
	if err != nil {
		return nil, err
	}
	return func(b box) []string {
		feet := zones.Point{X: b.X + b.W/2, Y: min(b.Y+b.H, 1)}
		var ids []string
		for _, z := range zl {
			if z.Polygon.Contains(feet) {
				ids = append(ids, z.ID)
			}
		}
		return ids
	}, nil
}
