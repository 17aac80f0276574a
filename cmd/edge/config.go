package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/edgeprivacy/edge/configs"
)

// cmdConfig is `edge config check FILE`: the problems and exit 1, or a line per camera.
func cmdConfig(_ context.Context, args []string) error {
	if len(args) != 2 || args[0] != "check" {
		return &exitError{2, errors.New("usage: edge config check FILE")}
	}
	cfg, err := configs.Load(args[1])
	if err != nil {
		return err
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
		fmt.Fprintf(os.Stdout, "camera %s: %s, %s over %s, %d privacy zone(s), %d monitored zone(s), detect %.0f fps at %d px\n",
			c.ID, state, configs.RedactURL(c.URL), c.Transport, privacy, monitored, c.Detect.FPS, c.Detect.Width)
	}
	return nil
}
