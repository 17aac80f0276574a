package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// CheckFiles reports every file the config refers to (TLS CA, client
// certificate and key, each enabled camera's detector model and network
// description) that is missing or unreadable, as a *ValidationError, or nil.
// Load does not call it: a file may be put in place after the config is
// written; `edge config check` does, so that a typo is found before the box
// is started.
func (c *Config) CheckFiles() error {
	v := &validator{}
	check := func(path, key, what string) {
		if path == "" {
			return
		}
		f, err := os.Open(path)
		if err == nil {
			fi, serr := f.Stat()
			f.Close()
			if serr == nil && fi.IsDir() {
				v.add(key, "point it at the "+what+" file, not a folder", "%s is a folder", path)
			}
			return
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			v.add(key, "put the "+what+" there or correct the path", "%s does not exist", path)
		case errors.Is(err, fs.ErrPermission):
			v.add(key, "let the user edge runs as read it (chmod/chown)", "%s is not readable", path)
		default:
			v.add(key, "check the path", "%s: %v", path, err)
		}
	}
	check(c.MQTT.TLS.CA, "mqtt.tls.ca", "CA certificate (PEM)")
	check(c.MQTT.TLS.Cert, "mqtt.tls.cert", "client certificate (PEM)")
	check(c.MQTT.TLS.Key, "mqtt.tls.key", "client key (PEM)")
	for i, cam := range c.Cameras {
		if !cam.IsEnabled() {
			continue
		}
		p := label("cameras", i, cam.ID)
		check(cam.Detect.Model, p+".detect.model", fmt.Sprintf("%s model", cam.Detect.Kind))
		check(cam.Detect.ModelConfig, p+".detect.model_config", "network description")
	}
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}
