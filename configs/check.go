package configs

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/internal/redact"
)

// Check is `edge config check [--strict] FILE`: the problems of the config
// at path as an error, or a line per camera and per sign on w. Signs
// expiring within SignExpiryWarning, expired or not yet valid at now are
// warnings: an error only when strict.
func Check(ctx context.Context, w io.Writer, now time.Time, path string, strict bool) error {
	cfg, err := LoadContext(ctx, path)
	if err != nil {
		return err
	}
	if err := cfg.CheckFiles(); err != nil {
		return fmt.Errorf("config %s: files it refers to: %w", path, err)
	}
	for _, c := range cfg.Cameras {
		privacy, monitored := 0, 0
		for _, z := range c.Zones {
			if z.Kind == "privacy" {
				privacy++
			} else {
				monitored++
			}
		}
		state := "enabled"
		if !c.IsEnabled() {
			state = "disabled"
		}
		fmt.Fprintf(w, "camera %s: %s, %s over %s, %d privacy zone(s), %d monitored zone(s), detect %.0f fps at %d px\n",
			c.ID, state, redact.URL(c.URL), c.Transport, privacy, monitored, c.Detect.FPS, c.Detect.Width)
	}
	warnings := 0
	for _, s := range cfg.SignStates(now, SignExpiryWarning) {
		mark := ""
		if s.Warning() {
			mark = "WARNING "
			warnings++
		}
		used := "used by nothing"
		if len(s.UsedBy) > 0 {
			used = "used by " + strings.Join(s.UsedBy, ", ")
		}
		gated := ""
		if !s.Valid() && len(s.UsedBy) > 0 {
			gated = "; until renewed, what it covers is not analysed and its camera outputs do not run"
		}
		fmt.Fprintf(w, "sign %s: %s%s, %s, %s%s\n", s.ID, mark, s.Describe(now), s.Purpose, used, gated)
	}
	if warnings > 0 && strict {
		return fmt.Errorf("%d sign warning(s) with --strict; renew the signs (verify them in place and update verified_at and expires_at)", warnings)
	}
	return nil
}
