package modelid_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/modelid"
)

var update = flag.Bool("update", false, "rewrite known.txt from the installed opencv-data")

const opencvData = "/usr/share/opencv4" // Debian opencv-data, installed by scripts/deps.sh

// detectsByName says what a cascade of opencv-data detects, from its file
// name; the list must hold every one of them by content.
func detectsByName(name string) string {
	switch {
	case strings.Contains(name, "eye"):
		return "eye"
	case strings.Contains(name, "face"):
		return "face"
	case strings.Contains(name, "smile"):
		return "smile"
	case strings.Contains(name, "plate"):
		return "licence-plate"
	case strings.Contains(name, "body"):
		return "person"
	}
	return ""
}

// TestKnownList checks the embedded list against the installed opencv-data:
// every face, eye, smile and plate cascade is identified as such, every body
// cascade as a person detector, anything else (silverware) as unknown.
func TestKnownList(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(opencvData, "*cascades", "*.xml"))
	if len(files) < 20 {
		t.Fatalf("found %d cascades under %s; run scripts/deps.sh (opencv-data)", len(files), opencvData)
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	var gen bytes.Buffer
	gen.WriteString(header)
	for _, f := range files {
		name := filepath.Base(f)
		want := detectsByName(name)
		if *update && want != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&gen, "%s %s %s\t%s\n", sum(b), sum(modelid.Normalize(b)), want, name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			m, err := modelid.Identify(f)
			if err != nil {
				t.Fatal(err)
			}
			if m.Detects != want {
				t.Fatalf("identified as %q, want %q", m.Detects, want)
			}
			if want != "" && m.KnownAs != name {
				t.Errorf("known as %q, want %q", m.KnownAs, name)
			}
			if m.Biometric() != (want != "" && want != "person") {
				t.Errorf("Biometric() = %v", m.Biometric())
			}
		})
	}
	if *update {
		if err := os.WriteFile("known.txt", gen.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const header = `# Detector models known by content, generated from Debian opencv-data 4.6.0+dfsg-12
# (/usr/share/opencv4/{haar,lbp}cascades); regenerate: go test ./internal/modelid -run TestKnownList -update
# Columns: sha256 of the file, sha256 of the XML without comments and whitespace,
# what it detects (person is allowed; anything else is biometric and refused), file name.
`

// TestDisguisedFaceCascade: renaming, re-indenting or annotating a face
// cascade does not hide it.
func TestDisguisedFaceCascade(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(opencvData, "haarcascades", "haarcascade_frontalface_default.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cases := map[string][]byte{
		"people.xml":     orig,
		"reindented.xml": bytes.ReplaceAll(orig, []byte("\n  "), []byte("\n\t\t")),
		"annotated.xml":  bytes.Replace(orig, []byte("<opencv_storage>"), []byte("<opencv_storage>\n<!-- full body detector -->"), 1),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(b, orig) != (name == "people.xml") {
				t.Fatal("the disguise did not change the file")
			}
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := modelid.Identify(p)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Biometric() || m.Detects != "face" || m.KnownAs != "haarcascade_frontalface_default.xml" {
				t.Fatalf("got %+v, want the face cascade", m)
			}
		})
	}
	t.Run("one changed threshold is a different model", func(t *testing.T) {
		p := filepath.Join(dir, "edited.xml")
		i := bytes.Index(orig, []byte("<stageThreshold>"))
		b := bytes.Clone(orig)
		b[i+len("<stageThreshold>")+1] ^= 1
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := modelid.Identify(p)
		if err != nil || m.Detects != modelid.DetectsUnknown {
			t.Fatalf("got %+v, %v; want unknown (it then needs a declaration)", m, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := modelid.Identify(filepath.Join(dir, "nope.xml")); err == nil {
			t.Fatal("no error")
		}
	})
}

func sum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }
