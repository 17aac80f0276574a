package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/metrics"
	"github.com/edgeprivacy/edge/internal/privfile"
	"github.com/edgeprivacy/edge/stages/mask"
	"github.com/edgeprivacy/edge/zones"
)

// The runner is the console's backend (console.Backend) and the metrics'
// source (metrics.Source). Console changes run on the serve goroutine, one
// at a time and never during a reload, through r.changes.

// changeReq is a config change asked for by the console.
type changeReq struct {
	user, action string
	edit         func(raw []byte) ([]byte, error)
	reply        chan error
}

// Config returns the config in force.
func (r *runner) Config() *configs.Config { return r.inForce.Load().cfg }

// ConfigFile returns the config file's path and the content in force.
func (r *runner) ConfigFile() (string, []byte) {
	l := r.inForce.Load()
	return l.path, l.raw
}

// Latest returns a reference to the camera's newest masked frame, or nil.
func (r *runner) Latest(camera string) *mask.Frame { return r.latest(camera) }

// ViewAllowed is the compliance monitor's rule for the camera's pictures.
func (r *runner) ViewAllowed(camera string) (bool, string) {
	if r.mon == nil {
		return false, "no compliance monitor"
	}
	return r.mon.ImagesAllowed(camera)
}

// Ready is nil while cameras are running.
func (r *runner) Ready() error {
	if !r.running.Load() {
		return errors.New("starting")
	}
	return nil
}

// Change applies a console edit as a file edit would be applied, but checked
// before the file is written: the edited config must load and validate and
// change nothing a running edge cannot apply. Only then is the file replaced
// (atomically: a temporary file in the same folder renamed over it), the
// change audited with the user, and the config reloaded.
func (r *runner) Change(ctx context.Context, user, action string, edit func(raw []byte) ([]byte, error)) error {
	req := changeReq{user: user, action: action, edit: edit, reply: make(chan error, 1)}
	select {
	case r.changes <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		// The change goes on; the client has gone.
		return ctx.Err()
	}
}

// applyChange runs on the serve goroutine.
func (r *runner) applyChange(ctx context.Context, cur *loaded, req changeReq) error {
	raw, err := os.ReadFile(cur.path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	newRaw, err := req.edit(raw)
	if err != nil {
		return err
	}
	next, err := configs.LoadBytes(newRaw)
	if err == nil {
		err = r.override(next)
	}
	if err != nil {
		r.audit.rejected(fmt.Errorf("change by %s (%s) rejected: %w", req.user, req.action, err))
		return err
	}
	if why := needsRestart(cur.cfg, next); why != "" {
		err := &configs.ValidationError{Problems: []configs.Problem{{Path: why,
			Msg: "a running edge cannot apply this change", Fix: "edit the file and restart edge to apply it"}}}
		r.audit.rejected(fmt.Errorf("change by %s (%s) rejected: %w", req.user, req.action, err))
		return err
	}
	if err := writeAtomic(cur.path, newRaw); err != nil {
		return err
	}
	r.audit.change(cur.path, newRaw, req.user, req.action)
	r.reload(ctx, cur)
	return nil
}

// writeAtomic replaces path with b so that a reader (edge's own reload, an
// editor) sees the old file or the new one, never half of one. The file
// keeps its permission bits; a symbolic link keeps pointing at it.
func writeAtomic(path string, b []byte) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // renaming over the link would replace the link, not the file
	}
	mode := os.FileMode(0o640)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := privfile.WriteTemp(path, b, mode)
	if err != nil {
		return fmt.Errorf("config write: %w (edge needs write access to the config's folder)", err)
	}
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("config write: %w", err)
	}
	return nil
}

// Cameras implements metrics.Source.
func (r *runner) Cameras() []metrics.CameraStats {
	r.mu.Lock()
	out := make([]metrics.CameraStats, 0, len(r.cams))
	for id, c := range r.cams {
		n, s := c.Counters(), c.Stats()
		out = append(out, metrics.CameraStats{ID: id, Up: c.Status() == events.StatusStreaming,
			Decoded: n.Decoded, Masked: n.Masked, Drops: c.Drops(),
			DetectRequested: s.DetectRequested, DetectServed: s.DetectServed, DetectSkipped: s.DetectSkipped})
	}
	r.mu.Unlock()
	if r.outs != nil {
		// Read after r.mu is released: the outputs have a lock of their own.
		for i := range out {
			out[i].Outputs = r.outs.stats(out[i].ID)
		}
	}
	return out
}

// Signs implements metrics.Source.
func (r *runner) Signs() []metrics.SignStats {
	cfg, now := r.Config(), time.Now()
	out := make([]metrics.SignStats, 0, len(cfg.Signage))
	for _, s := range cfg.Signage {
		out = append(out, metrics.SignStats{ID: s.ID, Valid: s.ToZones().StatusAt(now) == zones.SignValid})
	}
	return out
}

// MQTT implements metrics.Source.
func (r *runner) MQTT() metrics.MQTTStats {
	if r.mqtt == nil {
		return metrics.MQTTStats{}
	}
	s := r.mqtt()
	return metrics.MQTTStats{Spooled: s.SpoolDepth, Connected: s.Connected, Failovers: s.Failovers, ConnectFailures: s.ConnectFailures}
}
