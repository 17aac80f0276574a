package configs_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/configs"
	"github.com/edgeprivacy/edge/zones"
)

// TestPurposeVocabulary: a sign's purpose is public safety or one of its named
// sub-purposes; anything else is refused with the allowed values, and the free
// detail cannot smuggle a forbidden use back in.
func TestPurposeVocabulary(t *testing.T) {
	for _, p := range zones.Purposes {
		t.Run("allowed "+string(p), func(t *testing.T) {
			c := mustValid(t)
			c.Signage[0].Purpose = string(p)
			if err := c.Validate(); err != nil {
				t.Fatalf("purpose %q refused: %v", p, err)
			}
		})
	}
	cases := []struct{ name, purpose, detail, path, want string }{
		{"marketing", "customer profiling and marketing analytics", "", "signage[sign-1].purpose", "public safety only"},
		{"profiling", "profiling", "", "signage[sign-1].purpose", "public-safety, crowd-safety, fire-safety, traffic-safety, emergency-response"},
		{"attendance", "attendance", "", "signage[sign-1].purpose", "public-safety"},
		{"identity", "identity", "", "signage[sign-1].purpose", "public-safety"},
		{"free text naming safety", "occupancy counting for fire safety", "", "signage[sign-1].purpose", "purpose_detail"},
		{"wrong case", "Public-Safety", "", "signage[sign-1].purpose", "not allowed"},
		{"empty", "", "", "signage[sign-1].purpose", "required"},
		{"detail smuggles marketing", "crowd-safety", "footfall for marketing", "signage[sign-1].purpose_detail", "marketing"},
		{"detail smuggles identity", "public-safety", "identify regular visitors", "signage[sign-1].purpose_detail", "identify"},
		{"detail smuggles attendance", "public-safety", "staff attendance", "signage[sign-1].purpose_detail", "attendance"},
		{"detail smuggles face matching", "public-safety", "face matching of visitors", "signage[sign-1].purpose_detail", "face"},
		{"detail smuggles customers", "crowd-safety", "customer analytics", "signage[sign-1].purpose_detail", "customer"},
		{"detail smuggles sales", "crowd-safety", "dwell time for retail sales", "signage[sign-1].purpose_detail", "retail"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			c.Signage[0].Purpose, c.Signage[0].PurposeDetail = tc.purpose, tc.detail
			requireProblem(t, c.Validate(), tc.path, tc.want)
		})
	}
	for _, detail := range []string{"crowd safety on the surface platform", "wholesale market exits", "pedestrian counting"} {
		c := mustValid(t)
		c.Signage[0].PurposeDetail = detail
		if err := c.Validate(); err != nil {
			t.Errorf("purpose_detail %q refused: %v", detail, err)
		}
	}
}

func sum16(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b))[:16] }

func requireProblem(t *testing.T, err error, path, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want a problem at %s", path)
	}
	for _, p := range problems(t, err) {
		if p.Path == path && strings.Contains(p.String(), want) {
			return
		}
	}
	t.Fatalf("no problem at %s containing %q in:\n%v", path, want, err)
}

// TestCameraSignGatesImageOutputs: restream, recordings and snapshots need a
// registered camera sign; the message names the camera, the outputs and the fix.
func TestCameraSignGatesImageOutputs(t *testing.T) {
	const p = "cameras[lobby].signage"
	cases := []struct {
		name   string
		mutate func(c *configs.Camera)
		want   []string
	}{
		{"restream and record, no zone, no sign", func(c *configs.Camera) {
			c.Zones, c.Restream, c.Record.Enabled, c.Signage = nil, true, true, ""
		}, []string{"camera lobby has restream, record on but no signage", "set cameras[lobby].signage", "or turn restream, record off"}},
		{"snapshots without sign", func(c *configs.Camera) { c.Snapshots.Enabled, c.Signage = true, "" }, []string{"snapshots on", "valid camera sign"}},
		{"unregistered camera sign", func(c *configs.Camera) {
			c.Restream, c.Signage = true, "nope"
		}, []string{`camera sign "nope" is not registered`, `add a sign with id "nope"`, "until then restream cannot run"}},
		{"unregistered sign without outputs", func(c *configs.Camera) { c.Signage = "nope" }, []string{`"nope" is not registered`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			tc.mutate(&c.Cameras[0])
			for _, w := range tc.want {
				requireProblem(t, c.Validate(), p, w)
			}
		})
	}
	t.Run("registered camera sign", func(t *testing.T) {
		c := mustValid(t)
		cam := &c.Cameras[0]
		cam.Restream, cam.Record.Enabled, cam.Snapshots.Enabled, cam.Signage = true, true, true, "sign-1"
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestShippedConfigsSignCameras: the example and the demo satisfy every rule.
func TestShippedConfigsSignCameras(t *testing.T) {
	for _, f := range []string{"example.yaml", "demo.yaml"} {
		t.Run(f, func(t *testing.T) {
			c, err := configs.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, cam := range c.Cameras {
				if len(cam.ImageOutputs()) > 0 && cam.Signage == "" {
					t.Errorf("camera %s has outputs but no sign", cam.ID)
				}
			}
		})
	}
}

// TestModelsByContent: a face cascade is refused whatever it is called; a
// model that is not a known person detector needs a declaration of people.
func TestModelsByContent(t *testing.T) {
	const haar = "/usr/share/opencv4/haarcascades/"
	dir := t.TempDir()
	copyFile := func(src, name string) string {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	people := copyFile(haar+"haarcascade_frontalface_default.xml", "people.xml")
	lbp := copyFile("/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml", "crowd.xml")
	plate := copyFile(haar+"haarcascade_russian_plate_number.xml", "cars.xml")
	silver := copyFile("/usr/share/opencv4/lbpcascades/lbpcascade_silverware.xml", "detector.xml")
	// A face cascade with one threshold digit edited: no hash of the list
	// matches it, its structure does.
	b, err := os.ReadFile(haar + "haarcascade_frontalface_default.xml")
	if err != nil {
		t.Fatal(err)
	}
	const first = "<stageThreshold>-5.0425500869750977e+00"
	if !bytes.Contains(b, []byte(first)) {
		t.Fatalf("no %q to edit", first)
	}
	editedPeople := filepath.Join(dir, "people-edited", "people.xml")
	if err := os.MkdirAll(filepath.Dir(editedPeople), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(editedPeople, bytes.Replace(b, []byte(first), []byte("<stageThreshold>-5.1425500869750977e+00"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	// Cascades OpenCV loads but edge cannot compare with the face cascades:
	// gzip-compressed, YAML, or XML it cannot parse. Declared as people,
	// they must still be refused.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(b); err != nil || zw.Close() != nil {
		t.Fatal("gzip", err)
	}
	writeModel := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gzPeople := writeModel("people.xml.gz", gz.Bytes())
	yamlPeople := writeModel("people.yml", []byte("%YAML:1.0\n---\ncascade:\n   stageType: BOOST\n   featureType: HAAR\n   height: 24\n   width: 24\n"))
	cutPeople := writeModel("people-cut.xml", b[:len(b)/2])
	person := &configs.ModelDeclaration{Detects: "person", DeclaredBy: "A. Operator, site safety officer"}
	const noStructure = "is not a cascade edge can compare with the known face cascades: "
	const xmlFix = "fix: use an OpenCV cascade XML file"
	const dm = "cameras[lobby].detect.model"
	cases := []struct {
		name, model string
		decl        *configs.ModelDeclaration
		path, want  string
	}{
		{"face cascade renamed people.xml", people, nil, dm, "haarcascade_frontalface_default.xml, a face detector, whatever the file is called"},
		{"face cascade renamed, declared as people", people, &configs.ModelDeclaration{Detects: "person", DeclaredBy: "x"}, dm, "a face detector"},
		{"lbp face cascade renamed", lbp, nil, dm, "lbpcascade_frontalface_improved.xml, a face detector"},
		{"plate cascade renamed", plate, nil, dm, "a licence-plate detector"},
		{"face cascade with a threshold edited, renamed and declared as people", editedPeople, &configs.ModelDeclaration{Detects: "person", DeclaredBy: "A. Operator, site safety officer"},
			dm, "has the structure of haarcascade_frontalface_default.xml, a face detector (same window, stages and features; only thresholds, leaf values or parts OpenCV does not use differ), whatever the file is called or declared to detect; fix: use a person (full body) detector"},
		{"gzip-compressed cascade declared as people", gzPeople, person, dm, "people.xml.gz\" (sha256 " + sum16(gz.Bytes()) + ") " + noStructure + "not an XML file"},
		{"gzip-compressed cascade: the fix", gzPeople, person, dm, xmlFix},
		{"YAML cascade declared as people", yamlPeople, person, dm, noStructure + "not an XML file (OpenCV also reads gzip-compressed, YAML and JSON cascades"},
		{"truncated cascade declared as people", cutPeople, person, dm, noStructure + "not an OpenCV cascade classifier"},
		{"unknown model without declaration", silver, nil, dm + "_declaration", "not a known person detector and has no declaration"},
		{"unknown model declared as faces", silver, &configs.ModelDeclaration{Detects: "faces", DeclaredBy: "x"}, dm + "_declaration.detects", `"faces" is not people`},
		{"unknown model declared as cats", silver, &configs.ModelDeclaration{Detects: "cats", DeclaredBy: "x"}, dm + "_declaration.detects", "not people"},
		{"unknown model declared by nobody", silver, &configs.ModelDeclaration{Detects: "person"}, dm + "_declaration.declared_by", "no author"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustValid(t)
			d := &c.Cameras[0].Detect
			d.Kind, d.Model, d.ModelDeclaration = "haar", tc.model, tc.decl
			requireProblem(t, c.Validate(), tc.path, tc.want)
		})
	}
	for _, ok := range []struct {
		name, model string
		decl        *configs.ModelDeclaration
	}{
		{"known person detector", haar + "haarcascade_fullbody.xml", nil},
		{"known person detector renamed", copyFile(haar+"haarcascade_upperbody.xml", "x.xml"), nil},
		{"full body detector declared", copyFile(haar+"haarcascade_fullbody.xml", "people.xml"), &configs.ModelDeclaration{Detects: "person", DeclaredBy: "A. Operator, site safety officer"}},
		{"declared person model", silver, &configs.ModelDeclaration{Detects: "people (full body)", DeclaredBy: "A. Operator, site safety officer"}},
	} {
		t.Run(ok.name, func(t *testing.T) {
			c := mustValid(t)
			d := &c.Cameras[0].Detect
			d.Kind, d.Model, d.ModelDeclaration = "haar", ok.model, ok.decl
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			ms := d.Models()
			if len(ms) != 1 || len(ms[0].SHA256) != 64 {
				t.Fatalf("models %+v", ms)
			}
		})
	}
}
