package configs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
)

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &configs.Config{
		MQTT: configs.MQTT{TLS: configs.TLS{CA: ca, Cert: filepath.Join(dir, "missing.pem"), Key: dir}},
		Cameras: []configs.Camera{
			{ID: "a", Detect: configs.Detect{Kind: "haar", Model: filepath.Join(dir, "nope.xml")}},
			{ID: "b", Detect: configs.Detect{Kind: "haar", Model: filepath.Join(dir, "nope.xml")}, Enabled: new(bool)},
		},
	}
	err := cfg.CheckFiles()
	if err == nil {
		t.Fatal("missing files accepted")
	}
	msg := err.Error()
	for _, want := range []string{"mqtt.tls.cert", "missing.pem does not exist", "mqtt.tls.key", "is a folder", "cameras[a].detect.model", "nope.xml does not exist"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, not := range []string{"mqtt.tls.ca", "cameras[b]"} {
		if strings.Contains(msg, not) {
			t.Errorf("error names %q (present file, or disabled camera):\n%s", not, msg)
		}
	}
	cfg.MQTT.TLS = configs.TLS{CA: ca}
	cfg.Cameras = cfg.Cameras[:0]
	if err := cfg.CheckFiles(); err != nil {
		t.Errorf("present files refused: %v", err)
	}
}
