package fleet

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints one line per box and one per camera, then a summary, for
// a terminal or a cron mail.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, box := range r.Boxes {
		state := "UP  "
		if !box.Up {
			state = "DOWN"
		}
		fmt.Fprintf(&b, "%s %s/%s", state, box.Site, box.Box)
		if box.HeartbeatAgeS >= 0 {
			fmt.Fprintf(&b, " heartbeat=%.0fs ago", box.HeartbeatAgeS)
		}
		if box.Why != "" {
			fmt.Fprintf(&b, " why=%q", box.Why)
		}
		if hb := box.Heartbeat; hb != nil {
			fmt.Fprintf(&b, " cameras=%d broker=%s failovers=%d spooled=%d dropped=%d build=%s",
				hb.Cameras, hb.Broker, hb.Failovers, hb.SpoolDepth, hb.Dropped, hb.Build)
		}
		b.WriteByte('\n')
		for _, c := range box.Cameras {
			verdict := "ok"
			if !c.Compliant {
				verdict = "OUT-OF-COMPLIANCE"
			}
			fmt.Fprintf(&b, "  %s/%s/%s %s status=%s signs_expired=%s signs_expiring=%s outputs_gated=%s drops=%d events_1h=%d\n",
				box.Site, box.Box, c.ID, verdict, orDash(c.Status), list(c.SignsExpired), list(c.SignsExpiring), list(c.OutputsGated), c.Drops, c.EventsLastHour)
		}
	}
	fmt.Fprintf(&b, "%d boxes, %d down, %d cameras out of compliance\n", len(r.Boxes), r.Down, r.NonCompliant)
	_, err := io.WriteString(w, b.String())
	return err
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
