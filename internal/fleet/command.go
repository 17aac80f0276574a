package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edgeprivacy/edge/internal/exitcode"
)

// StatusCommand is `edge fleet status`: one line per box and camera of every
// box under o.Root (or the report as JSON) on w; exit status 1 when a box is
// down or a camera out of compliance, so that cron or a monitoring system
// can run it.
func StatusCommand(ctx context.Context, w io.Writer, o Options, asJSON bool) error {
	r, err := Collect(ctx, o)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(w)
	}
	if err != nil {
		return err
	}
	if !r.Healthy() {
		return exitcode.New(exitcode.Failed, fmt.Errorf("%d of %d boxes down, %d cameras out of compliance", r.Down, len(r.Boxes), r.NonCompliant))
	}
	return nil
}

// BenchCommand is `edge bench fleet`: o's boxes (the real publisher and
// spool, synthetic events, no video) against a broker list, their spools in
// a temporary folder; prints events per second and whether every event
// arrived.
func BenchCommand(ctx context.Context, w io.Writer, o BenchOptions) error {
	dir, err := os.MkdirTemp("", "edge-bench-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o.SpoolDir = dir
	res, err := Bench(ctx, o)
	if res != nil {
		up := 0
		if res.Status != nil {
			up = len(res.Status.Boxes) - res.Status.Down
		}
		fmt.Fprintf(w, "boxes=%d produced=%d delivered=%d duplicates=%d elapsed=%v events_per_s=%.0f failovers=%d dropped=%d boxes_up=%d\n",
			res.Boxes, res.Produced, res.Delivered, res.Duplicates, res.Elapsed.Round(time.Millisecond), res.EventsPerSecond,
			res.Failovers, res.Dropped, up)
	}
	return err
}
