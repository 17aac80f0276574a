package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/pipeline"
)

// TestModelDeclarationIsAudited: a model edge does not know runs only on
// its operator's declaration, and the config record of the audit log keeps
// that declaration beside the model's content hash.
func TestModelDeclarationIsAudited(t *testing.T) {
	const model = "/usr/share/opencv4/lbpcascades/lbpcascade_silverware.xml" // known to no list
	if _, err := os.Stat(model); err != nil {
		t.Skipf("opencv-data not installed: %v", err)
	}
	src := strings.Replace(appConfig, "  - id: a\n", "  - id: a\n    detect: {kind: haar, model: "+model+
		", model_declaration: {detects: people (full body), declared_by: \"A. Operator, safety officer\"}}\n", 1)
	dir := t.TempDir()
	src = fmt.Sprintf(src, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), 8554)
	cfg, err := configs.LoadBytes([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := openAudit(filepath.Join(dir, "audit"), 0, filepath.Join(dir, "device.key"), &edgetest.Sink{}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	a.config("edge.yaml", []byte(src), nil, cfg, "start", pipeline.Changes{Started: []string{"a"}}, nil)
	a.Close()
	var rec struct {
		Data auditConfig `json:"data"`
	}
	for _, l := range strings.Split(readAuditFiles(t, filepath.Join(dir, "audit")), "\n") {
		if strings.Contains(l, `"kind":"config"`) {
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(rec.Data.Cameras) != 1 {
		t.Fatalf("no config record with camera a: %+v", rec)
	}
	d := rec.Data.Cameras[0].Detector
	if d.Declaration == nil || d.Declaration.Detects != "people (full body)" || d.Declaration.DeclaredBy != "A. Operator, safety officer" {
		t.Errorf("audited declaration %+v, want the config's", d.Declaration)
	}
	if len(d.Models) != 1 || len(d.Models[0].SHA256) != 64 || d.SHA256 != d.Models[0].SHA256 {
		t.Errorf("audited models %+v (sha256 %q), want the model's content hash", d.Models, d.SHA256)
	}
}

func readAuditFiles(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	var b strings.Builder
	for _, f := range files {
		s, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(s)
	}
	return b.String()
}
