package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/events"
	"github.com/edgeprivacy/edge/internal/compliance"
	"github.com/edgeprivacy/edge/internal/edgetest"
	"github.com/edgeprivacy/edge/internal/freeport"
	"github.com/edgeprivacy/edge/pipeline"
)

// TestReloadFollowsDiscovery: a camera added by a reload is announced to
// Home Assistant, and removing it again publishes an empty config for each
// of its entities.
func TestReloadFollowsDiscovery(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	base := fmt.Sprintf(appConfig, "tcp://127.0.0.1:1883", filepath.Join(dir, "spool"), freeport.TCP(t))
	writeFile(t, path, base)
	raw, cfg, err := loadConfig(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sink := &edgetest.Sink{}
	log := quietLogger()
	r := newRunner(log, sink)
	r.prefix = "edge"
	if r.outs, err = newOutputs(cfg, log, compliance.New(compliance.Config{Sink: &edgetest.Sink{}}), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	site := pipeline.NewSite(log)
	r.site = site
	defer func() { cancel(); site.Wait() }()
	site.Apply(ctx, mustMembers(t, ctx, r, cfg))
	r.announce(cfg)
	cur := &loaded{path: path, raw: raw, cfg: cfg}
	first := len(edgetest.Of[events.Discovery](sink.Messages()))
	if first == 0 {
		t.Fatal("nothing announced at start")
	}

	camB := "  - id: b\n    url: rtsp://127.0.0.1:9/b\n    zones: [{id: hall, kind: monitored, signage: s1, polygon: [[0, 0], [1, 0], [1, 1]]}]\nsignage:\n"
	writeFile(t, path, strings.Replace(base, "signage:\n", camB, 1))
	r.reload(ctx, cur)
	var bTopics []string
	for _, d := range edgetest.Of[events.Discovery](sink.Messages())[first:] {
		if strings.Contains(string(d.Config), `"edge/b/state"`) || strings.Contains(string(d.Config), `"edge/b/hall/occupancy"`) {
			bTopics = append(bTopics, d.ConfigTopic)
		}
	}
	if len(bTopics) < 4 {
		t.Fatalf("camera b announced with %d entities, want status, occupancy, person and sign", len(bTopics))
	}

	seen := len(edgetest.Of[events.Discovery](sink.Messages()))
	writeFile(t, path, base)
	r.reload(ctx, cur)
	cleared := map[string]bool{}
	for _, d := range edgetest.Of[events.Discovery](sink.Messages())[seen:] {
		if len(d.Config) == 0 {
			cleared[d.ConfigTopic] = true
		}
	}
	for _, topic := range bTopics {
		if !cleared[topic] {
			t.Errorf("removing camera b left %s", topic)
		}
	}
	if len(cleared) != len(bTopics) {
		t.Errorf("cleared %d configs, want camera b's %d", len(cleared), len(bTopics))
	}
}
