package layering_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/edgeprivacy/edge/"

// The layers of docs/architecture.md, lowest first. A package may import
// packages of lower layers; of its own layer only where sameLayer allows.
const (
	leaf    = iota // internal/* not named below
	domain         // configs, events, zones
	stage          // stages/*
	pipe           // pipeline
	service        // the commands and services an application uses
	app            // internal/app
	bench          // internal/bench
	top            // cmd/*, testvideos/* (programs)
)

var layerNames = []string{"internal leaf", "domain", "stage", "pipeline", "service", "internal/app", "internal/bench", "program"}

// named are the packages whose layer is not the default of their folder.
var named = map[string]int{
	"configs":  domain,
	"events":   domain,
	"zones":    domain,
	"pipeline": pipe,

	"internal/verify":     service,
	"internal/probe":      service,
	"internal/watch":      service,
	"internal/fleet":      service,
	"internal/console":    service,
	"internal/compliance": service,
	"internal/hass":       service,
	"internal/metrics":    service,
	"internal/cli":        service,
	// edgetest's doubles stand in for pipeline and service parts.
	"internal/edgetest": service,

	"internal/app":   app,
	"internal/bench": bench,
}

// testOnly are the test support packages: only tests and each other may
// import them (the broker ones are leaves and share brokertest).
var testOnly = map[string]bool{
	"internal/edgetest":      true,
	"internal/freeport":      true,
	"internal/brokertest":    true,
	"internal/mosquittotest": true,
	"internal/natstest":      true,
	"internal/rabbitmqtest":  true,
}

// layerOf is the layer of the package in folder dir (relative to the
// module root, slash-separated), or false for a folder the rule does not
// know (a new top-level folder must be given a layer here and in the doc).
func layerOf(dir string) (int, bool) {
	if l, ok := named[dir]; ok {
		return l, true
	}
	switch first, _, _ := strings.Cut(dir, "/"); first {
	case "internal":
		return leaf, true
	case "stages":
		return stage, true
	case "cmd", "testvideos":
		return top, true
	}
	return 0, false
}

// sameLayer says whether from may import to of its own layer: internal
// leaves build on each other, the domain packages on each other (configs
// on events and zones), and a stage only on the frame types of
// stages/decode and stages/mask, never on another stage's logic. Services
// do not import each other; internal/app composes them from above.
func sameLayer(layer int, to string) bool {
	switch layer {
	case leaf, domain:
		return true
	case stage:
		return to == "stages/decode" || to == "stages/mask"
	}
	return false
}

// check is the rule for one import: "" when allowed, else why not.
func check(from, to string) string {
	lf, ok := layerOf(from)
	if !ok {
		return fmt.Sprintf("%s is in no layer: give it one in layering_test.go and docs/architecture.md", from)
	}
	lt, ok := layerOf(to)
	if !ok {
		return fmt.Sprintf("%s is in no layer: give it one in layering_test.go and docs/architecture.md", to)
	}
	switch {
	case testOnly[to] && !testOnly[from]:
		return fmt.Sprintf("%s imports %s, which is for tests only", from, to)
	case lf == stage && to == "configs":
		// A stage takes its own typed config; pipeline/config.go maps
		// configs to it, so a default lives in one layer.
		return fmt.Sprintf("%s imports configs: take a typed config, mapped in pipeline/config.go", from)
	case lt < lf:
		return ""
	case lt == lf && sameLayer(lf, to):
		return ""
	case lt == lf:
		return fmt.Sprintf("%s (%s) imports %s of its own layer", from, layerNames[lf], to)
	}
	return fmt.Sprintf("%s (%s) imports %s (%s), a layer above it", from, layerNames[lf], to, layerNames[lt])
}

func TestRule(t *testing.T) {
	cases := []struct {
		from, to string
		ok       bool
	}{
		{"stages/detect", "stages/mask", true},
		{"stages/mask", "stages/decode", true},
		{"stages/detect", "stages/track", false},
		{"stages/detect", "pipeline", false},
		{"stages/detect", "configs", false},
		{"stages/detect", "events", true},
		{"pipeline", "stages/detect", true},
		{"pipeline", "internal/app", false},
		{"internal/media", "stages/ingest", false},
		{"internal/media", "internal/maskepoch", true},
		{"internal/media", "events", false},
		{"configs", "events", true},
		{"events", "pipeline", false},
		{"internal/verify", "pipeline", true},
		{"internal/verify", "internal/probe", false},
		{"internal/app", "internal/console", true},
		{"internal/app", "internal/bench", false},
		{"internal/bench", "internal/app", true},
		{"stages/publish", "internal/edgetest", false},
		{"stages/ingest", "internal/freeport", false},
		{"internal/natstest", "internal/brokertest", true},
		{"cmd/edge", "internal/app", true},
		{"internal/app", "cmd/edge", false},
		{"web", "zones", false},
	}
	for _, c := range cases {
		if why := check(c.from, c.to); (why == "") != c.ok {
			t.Errorf("%s -> %s: allowed %v, want %v (%s)", c.from, c.to, why == "", c.ok, why)
		}
	}
}

// TestImports reads the imports of every non-test Go file of the module
// (whatever its build tags) and checks each import of this module.
func TestImports(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fset := token.NewFileSet()
	files := 0
	var bad []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		from := filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			to, ours := strings.CutPrefix(p, module)
			if !ours {
				continue
			}
			if why := check(from, to); why != "" {
				bad = append(bad, fmt.Sprintf("%s: %s", fset.Position(imp.Pos()), why))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files under %s: is this the module root?", files, root)
	}
	slices.Sort(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// maxMainLines is how much non-test code cmd/edge may hold (issue #9): it
// parses flags and calls the application; anything that grows past this
// belongs in a package below it.
const maxMainLines = 400

func TestMainStaysThin(t *testing.T) {
	dir := filepath.Join("..", "..", "cmd", "edge")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		lines += strings.Count(string(b), "\n")
	}
	if lines == 0 {
		t.Fatal("cmd/edge: no Go files read")
	}
	if lines >= maxMainLines {
		t.Errorf("cmd/edge holds %d lines of non-test Go, want under %d: move what is not flag parsing into internal/app, internal/cli or the package that owns it", lines, maxMainLines)
	}
}
