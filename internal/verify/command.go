package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/exitcode"
	"github.com/edgeprivacy/edge/internal/manifest"
)

// ExitInconclusive is the exit status of a run that could not check
// something: never a pass.
const ExitInconclusive = 3

// CommandOptions are the settings of `edge verify` beyond the run's Config.
type CommandOptions struct {
	// Start is the wall-clock time of the first frame in RFC 3339; empty
	// means now.
	Start string
	// Out is the report folder; it must be new or empty.
	Out string
	// KeyPath is the device key that seals the report; empty means the
	// default place.
	KeyPath string
	// AuditDir is the audit log that records the report; empty means the
	// config's audit.dir.
	AuditDir string
}

// Command is `edge verify`: cfg checked by Run, the report written to o.Out,
// sealed, recorded in the audit log, and a summary on stdout. Exit status 0
// PASS, 1 FAIL, 2 usage or input error, 3 INCONCLUSIVE.
func Command(ctx context.Context, cfg Config, o CommandOptions) error {
	start, out := o.Start, o.Out
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err != nil {
			return exitcode.New(exitcode.Usage, fmt.Errorf("--start %q: want RFC 3339, e.g. 2026-03-01T12:00:00Z: %w", start, err))
		}
		cfg.Start = t
	}
	if isTerminal(os.Stderr) {
		cfg.Progress = progressBar(os.Stderr)
	}
	// Refuse a used folder before the run, not after minutes of checking.
	if err := FreshOutDir(out); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	rep, err := Run(ctx, cfg)
	if cfg.Progress != nil {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		if errors.Is(err, ErrInput) {
			return exitcode.New(exitcode.Usage, err)
		}
		return err
	}
	key, _, err := devicekey.Open(o.KeyPath)
	if err != nil {
		return exitcode.New(exitcode.Usage, fmt.Errorf("signing key: %w", err))
	}
	if err := rep.Write(out); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	inputs := []manifest.Input{{Role: "config", Path: rep.Config.Path, SHA256: rep.Config.SHA256}, {Role: "input", Path: rep.Video.Path, SHA256: rep.Video.SHA256}}
	if err := manifest.Seal(out, inputs, key); err != nil {
		return exitcode.New(exitcode.Usage, fmt.Errorf("sealing the report: %w", err))
	}
	rep.summarise(os.Stdout, out, key.Fingerprint())
	if err := rep.Audit(o.AuditDir, out, key); err != nil {
		return exitcode.New(exitcode.Usage, fmt.Errorf("report written and sealed, but not recorded in the audit log: %w", err))
	}
	switch rep.Verdict {
	case Pass:
	case Inconclusive:
		return exitcode.New(ExitInconclusive, errors.New("INCONCLUSIVE: "+strings.Join(rep.Reasons, "; ")))
	default:
		return exitcode.New(exitcode.Failed, errors.New(strings.Join(rep.Reasons, "; ")))
	}
	return nil
}

// summarise writes what an operator reads after a run: the verdict and
// counts, where the signed report is, the recording's origin and accuracy.
func (rep *Report) summarise(w io.Writer, out, fingerprint string) {
	fmt.Fprintf(w, "%s: %d frames checked, %d leaked, %d detections, %d outside signed zones, %d events, %.1f frames/s\nreport: %s/report.html (signed: %s/MANIFEST.minisig, key %s)\n",
		rep.Verdict, rep.FramesChecked, rep.FramesLeaked, rep.Detections, rep.ViolationCount, len(rep.Events), rep.ProcessingFPS, out, out, fingerprint)
	if o := rep.Origin; o != nil {
		fmt.Fprintf(w, "recording: started %s; camera %s, config %s, build %s, signage %s\n", o.StartTime,
			orUnstated(o.Camera), orUnstated(o.ConfigSHA256), orUnstated(o.Revision), orUnstated(o.Signage))
		if o.Warning != "" {
			fmt.Fprintf(w, "WARNING: %s\n", o.Warning)
		}
	}
	if a := rep.Accuracy; a != nil {
		fmt.Fprintf(w, "accuracy (%s, first %.1f s, detection on the %s): %d visits, %d enters, precision %.2f, recall %.2f, enters per visit %.2f, occupancy MAE %.2f (truth %.2f, run %.2f), entry latency p50 %.2f s p90 %.2f s\n",
			a.Truth, a.Seconds, rep.Detection, a.Visits, a.Enters, a.Precision, a.Recall, a.EntersPerVisit, a.OccupancyMAE, a.TrueOccupancy, a.RunOccupancy, a.LatencyP50, a.LatencyP90)
		for _, f := range a.Found {
			if f.At < 0 {
				fmt.Fprintf(w, "  not found: %s entering %s at %.2f s\n", f.Person, f.Zone, f.Enter)
			}
		}
		for _, e := range a.Extra {
			fmt.Fprintf(w, "  enter paired with no visit: track %d into %s at %.2f s\n", e.Track, e.Zone, e.T)
		}
	}
}

// PreviewCommand is `edge zones preview`: one masked frame with every zone
// drawn and labelled, written as a PNG to out, for operators drawing zones.
func PreviewCommand(ctx context.Context, cfg PreviewConfig, out string) error {
	png, err := Preview(ctx, cfg)
	if err != nil {
		if errors.Is(err, ErrInput) {
			return exitcode.New(exitcode.Usage, err)
		}
		return err
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return fmt.Errorf("write preview: %w", err)
	}
	fmt.Printf("wrote %s\n", out)
	return nil
}

// isTerminal says whether f is a terminal (then a progress bar helps; in a
// log or a pipe it is noise).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a Progress callback drawing on w at most ten times a
// second.
func progressBar(w io.Writer) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if time.Since(last) < 100*time.Millisecond && done != total {
			return
		}
		last = time.Now()
		if total <= 0 {
			fmt.Fprintf(w, "\rverify: %d frames", done)
			return
		}
		const width = 40
		n := min(width, done*width/total)
		fmt.Fprintf(w, "\rverify [%s%s] %d/%d frames", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
	}
}

func orUnstated(s string) string {
	if s == "" {
		return "not stated"
	}
	return s
}
