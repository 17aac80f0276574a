package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/redact"
)

const configUsage = "usage: edge config check [--strict] FILE"

// cmdConfig is `edge config check [--strict] FILE`: the problems and exit 1,
// or a line per camera and per sign; signs expiring within 30 days, expired
// or not yet valid are warnings (exit 0, or 1 with --strict).
func cmdConfig(ctx context.Context, args []string) error {
	return configCheck(ctx, os.Stdout, time.Now(), args)
}

func configCheck(ctx context.Context, w io.Writer, now time.Time, args []string) error {
	strict := false
	var rest []string
	for _, a := range args {
		if a == "--strict" || a == "-strict" {
			strict = true
		} else {
			rest = append(rest, a)
		}
	}
	if len(rest) != 2 || rest[0] != "check" || strings.HasPrefix(rest[1], "-") {
		return &exitError{2, errors.New(configUsage)}
	}
	cfg, err := configs.LoadContext(ctx, rest[1])
	if err != nil {
		return err
	}
	if err := cfg.CheckFiles(); err != nil {
		return fmt.Errorf("config %s: files it refers to: %w", rest[1], err)
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
	for _, s := range cfg.SignStates(now, configs.SignExpiryWarning) {
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
		return &exitError{1, fmt.Errorf("%d sign warning(s) with --strict; renew the signs (verify them in place and update verified_at and expires_at)", warnings)}
	}
	return nil
}
