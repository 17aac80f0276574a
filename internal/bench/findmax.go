package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MaxCameras bounds FindMax's ramp.
const MaxCameras = 256

// FindMax ramps the camera count from o.Cameras, doubling while the box
// sustains it, then halves the gap between the largest count sustained and
// the smallest not sustained until they are neighbours. It returns the
// report of the largest count sustained (of the first trial when none was),
// with every trial listed in FindMaxTrials. Each trial is a fresh Run.
func FindMax(ctx context.Context, o Options, log io.Writer) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if err := o.measureYardsticks(ctx); err != nil {
		return nil, err
	}
	var trials []Trial
	var best, first *Report
	trial := func(n int) (bool, error) {
		o := o
		o.Cameras = n
		r, err := Run(ctx, o)
		if err != nil {
			return false, err
		}
		why := r.Why
		// The first camera that failed says why the others most likely did.
		for _, c := range r.PerCamera {
			if !c.Sustained {
				why = append(slices.Clip(why), c.ID+": "+strings.Join(c.Why, "; "))
				break
			}
		}
		trials = append(trials, Trial{Cameras: n, Sustained: r.Sustained, Why: why})
		if log != nil {
			fmt.Fprintf(log, "find-max: %d cameras: sustained=%v %v\n", n, r.Sustained, why)
		}
		if first == nil {
			first = r
		}
		if r.Sustained && (best == nil || n > best.Cameras) {
			best = r
		}
		return r.Sustained, nil
	}
	good, bad := 0, 0
	for n := o.Cameras; n <= MaxCameras; n *= 2 {
		ok, err := trial(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			bad = n
			break
		}
		good = n
	}
	if bad != 0 {
		for bad-good > 1 && good > 0 {
			mid := (good + bad) / 2
			ok, err := trial(mid)
			if err != nil {
				return nil, err
			}
			if ok {
				good = mid
			} else {
				bad = mid
			}
		}
	}
	r := best
	if r == nil {
		r = first
	}
	r.FindMaxTrials = trials
	return r, nil
}
