package modelid_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
			st, err := modelid.CascadeStructure(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			fmt.Fprintf(&gen, "%s %s %s %s\t%s\n", sum(b), sum(modelid.Normalize(b)), st, want, name)
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
			if want != "" && (m.KnownAs != name || m.MatchedBy != modelid.MatchContent) {
				t.Errorf("known as %q by %q, want %q by content", m.KnownAs, m.MatchedBy, name)
			}
			if len(m.Structure) != 64 {
				t.Errorf("structure %q, want the cascade's structure hash", m.Structure)
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
# sha256 of the cascade's structure (window, stages, weak classifiers, the rectangles of the feature each node uses; no thresholds,
# leaf values or unused features: cascade.go), what it detects (person is allowed; anything else is biometric and refused,
# by content or by structure), file name.
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
	t.Run("one changed threshold is still the face cascade, by structure", func(t *testing.T) {
		p := filepath.Join(dir, "edited.xml")
		if err := os.WriteFile(p, editThreshold(t, orig), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := modelid.Identify(p)
		if err != nil || !m.Biometric() || m.KnownAs != "haarcascade_frontalface_default.xml" || m.MatchedBy != modelid.MatchStructure {
			t.Fatalf("got %+v, %v; want the face cascade by structure", m, err)
		}
	})
	t.Run("not XML: no structure, and why", func(t *testing.T) {
		p := filepath.Join(dir, "people.yml")
		if err := os.WriteFile(p, []byte("%YAML:1.0\ncascade:\n  featureType: HAAR\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := modelid.Identify(p)
		if err != nil || m.Structure != "" || m.StructureErr == nil || !strings.Contains(m.StructureErr.Error(), "not an XML file") {
			t.Fatalf("got %+v, %v; want no structure and why", m, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := modelid.Identify(filepath.Join(dir, "nope.xml")); err == nil {
			t.Fatal("no error")
		}
	})
}

func sum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// editThreshold changes one digit of the first stage threshold (new or old
// format), as someone hiding a cascade from the hash list would.
func editThreshold(t *testing.T, b []byte) []byte {
	t.Helper()
	for _, tag := range []string{"<stageThreshold>", "<stage_threshold>"} {
		i := bytes.Index(b, []byte(tag))
		if i < 0 {
			continue
		}
		for j := i + len(tag); j < len(b) && b[j] != '<'; j++ {
			if c := b[j]; c >= '1' && c <= '9' {
				out := bytes.Clone(b)
				out[j] = '1' + (c-'1'+1)%9 // another non-zero digit
				return out
			}
		}
	}
	t.Fatal("no stage threshold to edit")
	return nil
}

// TestEditedCascades: every known cascade of opencv-data with one
// threshold digit edited no longer matches any content hash. A biometric
// one is still recognised, by its structure, as what it is; an edited
// person cascade is no longer the known one and needs a declaration. A
// structural change (a rectangle moved, a stage dropped) makes another
// model, and the structures of the known cascades are all different.
func TestEditedCascades(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(opencvData, "*cascades", "*.xml"))
	if len(files) < 20 {
		t.Fatalf("found %d cascades under %s; run scripts/deps.sh (opencv-data)", len(files), opencvData)
	}
	dir := t.TempDir()
	seen := map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		want := detectsByName(name)
		if want == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			st, err := modelid.CascadeStructure(orig)
			if err != nil {
				t.Fatal(err)
			}
			if other, ok := seen[st]; ok {
				t.Fatalf("same structure as %s", other)
			}
			seen[st] = name
			p := filepath.Join(dir, "people.xml")
			if err := os.WriteFile(p, editThreshold(t, orig), 0o600); err != nil {
				t.Fatal(err)
			}
			m, err := modelid.Identify(p)
			if err != nil {
				t.Fatal(err)
			}
			if m.Structure != st {
				t.Fatalf("edited structure %s, want %s", m.Structure, st)
			}
			if want == modelid.DetectsPerson {
				if m.Detects != modelid.DetectsUnknown || m.Biometric() {
					t.Fatalf("edited person cascade identified as %+v, want unknown (it then needs a declaration)", m)
				}
				return
			}
			if m.Detects != want || m.KnownAs != name || m.MatchedBy != modelid.MatchStructure || !m.Biometric() {
				t.Fatalf("got %+v, want %s (%s) by structure", m, want, name)
			}
		})
	}
}

// TestElementLimit: the largest cascade of opencv-data is far below the
// element limit, so no real cascade is refused for its size.
func TestElementLimit(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(opencvData, "*cascades", "*.xml"))
	if len(files) < 20 {
		t.Fatalf("found %d cascades under %s; run scripts/deps.sh (opencv-data)", len(files), opencvData)
	}
	most, name := 0, ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := modelid.Elements(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if n > most {
			most, name = n, filepath.Base(f)
		}
	}
	t.Logf("largest cascade: %s, %d elements; limit %d", name, most, modelid.MaxElements)
	if most*10 > modelid.MaxElements {
		t.Errorf("%s has %d elements, within a tenth of the limit %d", name, most, modelid.MaxElements)
	}
}

// TestCascadeStructure: what the structure hash keeps and what it leaves
// out, on the face cascade (new format) and the Russian plate cascade (old
// haartraining format).
func TestCascadeStructure(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(opencvData, "haarcascades", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	face, plate := read("haarcascade_frontalface_default.xml"), read("haarcascade_licence_plate_rus_16stages.xml")
	cat := read("haarcascade_frontalcatface.xml") // has tilted features
	lbp, err := os.ReadFile(filepath.Join(opencvData, "lbpcascades", "lbpcascade_frontalface_improved.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const catFeature0 = "<_>\n      <rects>\n        <_>\n          0 0 2 4 -1.</_>\n        <_>\n          0 2 2 2 2.</_></rects>\n      <tilted>0</tilted></_>"
	cases := []struct {
		name string
		orig []byte
		edit func([]byte) []byte
		same bool
	}{
		{"leaf value edited", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("2.0875380039215088e+00"), []byte("2.1875380039215088e+00"), 1)
		}, true},
		{"node threshold edited", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("0 -1 0 -3.1511999666690826e-02"), []byte("0 -1 0 -4.1511999666690826e-02"), 1)
		}, true},
		{"training parameters rewritten", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("<maxWeakCount>211</maxWeakCount></stageParams>"), []byte("<maxWeakCount>7</maxWeakCount></stageParams>"), 1)
		}, true},
		{"weights written another way", face, func(b []byte) []byte {
			return bytes.ReplaceAll(b, []byte(" -1.</_>"), []byte(" -1.0e+00</_>"))
		}, true},
		{"old format: tree threshold and values edited", plate, func(b []byte) []byte {
			b = bytes.Replace(b, []byte("<threshold>1.6915600746870041e-002"), []byte("<threshold>2.6915600746870041e-002"), 1)
			return bytes.Replace(b, []byte("<left_val>-9.5547717809677124e-001"), []byte("<left_val>-8.5547717809677124e-001"), 1)
		}, true},
		// OpenCV evaluates only the features nodes point to, and reads of
		// a feature only its rects (three at most) and tilted, by name.
		{"an unused feature appended", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("</_></features>"), []byte("</_>\n<_><rects><_>0 0 1 1 -1.</_><_>0 0 1 1 2.</_></rects><tilted>0</tilted></_></features>"), 1)
		}, true},
		{"LBP: an unused feature appended", lbp, func(b []byte) []byte {
			return bytes.Replace(b, []byte("</_></features>"), []byte("</_>\n<_><rect>0 0 1 1</rect></_></features>"), 1)
		}, true},
		{"an element added inside a feature", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("<rects>"), []byte("<note>x</note><rects>"), 1)
		}, true},
		{"tilted written before rects", cat, func(b []byte) []byte {
			return bytes.Replace(b, []byte(catFeature0), []byte("<_>\n      <tilted>0</tilted><rects><_>0 0 2 4 -1.</_><_>0 2 2 2 2.</_></rects></_>"), 1)
		}, true},
		{"a fourth rectangle, which OpenCV never reads", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("12 12 7 6 2.</_></rects>"), []byte("12 12 7 6 2.</_><_>1 1 1 1 5.</_></rects>"), 1)
		}, true},
		{"tilted 0 left out", cat, func(b []byte) []byte {
			return bytes.Replace(b, []byte(catFeature0), []byte("<_><rects><_>0 0 2 4 -1.</_><_>0 2 2 2 2.</_></rects></_>"), 1)
		}, true},
		{"leaf values added to a tree", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("4.8600998520851135e-01 3.6160000599920750e-03</leafValues>"), []byte("4.8600998520851135e-01 3.6160000599920750e-03 7 7</leafValues>"), 1)
		}, true},
		{"old format: an element added inside a feature", plate, func(b []byte) []byte {
			return bytes.Replace(b, []byte("<feature>"), []byte("<feature><note>x</note>"), 1)
		}, true},
		{"a feature tilted", cat, func(b []byte) []byte {
			return bytes.Replace(b, []byte(catFeature0), []byte(strings.Replace(catFeature0, "<tilted>0", "<tilted>1", 1)), 1)
		}, false},
		{"LBP: a feature rectangle moved", lbp, func(b []byte) []byte {
			return bytes.Replace(b, []byte("0 0 1 1</rect>"), []byte("0 1 1 1</rect>"), 1)
		}, false},
		{"a feature rectangle moved", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("6 4 12 9 -1.</_>"), []byte("6 5 12 9 -1.</_>"), 1)
		}, false},
		{"a node uses another feature", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("0 -1 0 -3.1511999666690826e-02"), []byte("0 -1 1 -3.1511999666690826e-02"), 1)
		}, false},
		{"the window resized", face, func(b []byte) []byte {
			return bytes.Replace(b, []byte("<width>24</width>"), []byte("<width>25</width>"), 1)
		}, false},
		{"old format: a rectangle moved", plate, func(b []byte) []byte {
			return bytes.Replace(b, []byte("32 2 8 6 -1."), []byte("32 3 8 6 -1."), 1)
		}, false},
		{"old format: the window resized", plate, func(b []byte) []byte {
			return bytes.Replace(b, []byte("64 16</size>"), []byte("64 17</size>"), 1)
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.edit(tc.orig)
			if bytes.Equal(b, tc.orig) {
				t.Fatal("the edit changed nothing")
			}
			a, err := modelid.CascadeStructure(tc.orig)
			if err != nil {
				t.Fatal(err)
			}
			e, err := modelid.CascadeStructure(b)
			if err != nil {
				t.Fatal(err)
			}
			if (a == e) != tc.same {
				t.Fatalf("same structure = %v, want %v", a == e, tc.same)
			}
		})
	}
	for name, b := range map[string][]byte{
		"not XML":                             {0x08, 0x07, 0x12, 0x04, 'o', 'n', 'n', 'x'},
		"XML, no cascade":                     []byte(`<?xml version="1.0"?><opencv_storage><x>1</x></opencv_storage>`),
		"truncated":                           face[:len(face)/2],
		"badly nested":                        []byte(`<opencv_storage><cascade><stages></features></cascade></opencv_storage>`),
		"no stages in one":                    []byte(`<opencv_storage><cascade><width>24</width><height>24</height><stages></stages><features></features></cascade></opencv_storage>`),
		"a node points past the features":     bytes.Replace(face, []byte("0 -1 0 -3.1511999666690826e-02"), []byte("0 -1 99999 -3.1511999666690826e-02"), 1),
		"a HOG cascade (OpenCV 4 loads none)": bytes.Replace(face, []byte("<featureType>HAAR</featureType>"), []byte("<featureType>HOG</featureType>"), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := modelid.CascadeStructure(b); err == nil {
				t.Fatalf("structure %s, want an error", s)
			}
		})
	}
	t.Run("nested deeper than any cascade", func(t *testing.T) {
		// A hostile file must not take the parser's stack with it.
		b := slices.Concat(bytes.Repeat([]byte("<a>"), 100_000), bytes.Repeat([]byte("</a>"), 100_000))
		if _, err := modelid.CascadeStructure(b); err == nil || !strings.Contains(err.Error(), "nested over") {
			t.Fatalf("error %v, want the nesting refused", err)
		}
	})
	t.Run("entities are not expanded", func(t *testing.T) {
		// A billion laughs: a DTD whose entities double nine times. Go's
		// decoder does not expand them, so the file is small to read, and
		// what it holds is no cascade.
		var dtd strings.Builder
		dtd.WriteString(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY l0 "lol">`)
		for i := 1; i <= 9; i++ {
			fmt.Fprintf(&dtd, `<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">`, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		dtd.WriteString(`]><opencv_storage><cascade><stages>&l9;</stages></cascade></opencv_storage>`)
		if s, err := modelid.CascadeStructure([]byte(dtd.String())); err == nil {
			t.Fatalf("structure %s, want an error", s)
		}
	})
	t.Run("over the element limit", func(t *testing.T) {
		b := slices.Concat([]byte("<opencv_storage>"), bytes.Repeat([]byte("<_/>"), modelid.MaxElements), []byte("</opencv_storage>"))
		_, err := modelid.CascadeStructure(b)
		if want := fmt.Sprintf("over %d elements", modelid.MaxElements); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v, want %q", err, want)
		}
	})
}
