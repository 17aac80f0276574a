// Package modelid identifies detector model files by their content, not
// their name: a face cascade renamed people.xml is still a face cascade.
//
// known.txt lists models three ways: the SHA-256 of the file, of its XML
// with comments and whitespace removed (so that re-indenting a cascade does
// not hide it), and of its structure (cascade.go: window, stages, weak
// classifiers and the rectangles of the feature each node uses, without
// thresholds, leaf values or unused features, so that editing a number or
// padding the file does not hide it either). A haar detector whose
// structure edge cannot read is refused (configs), not taken as unknown. It holds every face, eye,
// smile and licence-plate cascade and every LBP face cascade in Debian's
// opencv-data, refused whatever the file is called, and the full, upper and
// lower body cascades, the only known person detectors. Any other model
// needs an explicit declaration in the config.
package modelid

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// errNotXML: OpenCV also loads cascades compressed (.xml.gz) or written as
// YAML or JSON, which edge does not read.
var errNotXML = errors.New("not an XML file (OpenCV also reads gzip-compressed, YAML and JSON cascades; edge compares only XML ones)")

//go:embed known.txt
var knownTxt string

// Detects values of known models. Anything but DetectsPerson is biometric.
const (
	DetectsPerson  = "person"
	DetectsUnknown = "" // not on the list: needs a declaration
)

// Model is what is known about one model file.
type Model struct {
	// Path is the file as given.
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// Detects is what a known model detects ("person", "face", "eye",
	// "smile", "licence-plate"), or DetectsUnknown.
	Detects string `json:"detects,omitempty"`
	// KnownAs is the known model's original file name, e.g.
	// haarcascade_frontalface_default.xml; empty when unknown.
	KnownAs string `json:"known_as,omitempty"`
	// MatchedBy says how it was recognised: MatchContent or MatchStructure.
	MatchedBy string `json:"matched_by,omitempty"`
	// Structure is the hex SHA-256 of an OpenCV cascade's structure; empty
	// for a file that is not one.
	Structure string `json:"structure,omitempty"`
	// StructureErr says why Structure is empty: the file is not XML (a
	// gzip-compressed, YAML or JSON cascade, or a network), not a cascade,
	// or over the size edge reads. A cascade detector must have a
	// structure, or an edited face cascade could pass as unknown.
	StructureErr error `json:"-"`
}

// How a known model was recognised.
const (
	// MatchContent: the file, or its XML without comments and whitespace,
	// is the known model's.
	MatchContent = "content"
	// MatchStructure: the cascade has the known biometric cascade's window,
	// stages, weak classifiers and features, with numbers edited.
	MatchStructure = "structure"
)

// Biometric reports whether the model is a known detector of faces or other
// biometric features (or of licence plates, which identify people too).
func (m Model) Biometric() bool { return m.Detects != DetectsUnknown && m.Detects != DetectsPerson }

// Person reports whether the model is a known person detector.
func (m Model) Person() bool { return m.Detects == DetectsPerson }

type entry struct{ detects, name string }

// known maps both content hashes to the model they identify; structures
// maps the structure hash of every known cascade to it.
var known, structures = parseKnown(knownTxt)

func parseKnown(s string) (content, structure map[string]entry) {
	content, structure = map[string]entry{}, map[string]entry{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 5 {
			panic(fmt.Sprintf("modelid: known.txt line %q: want 5 fields", line))
		}
		e := entry{detects: f[3], name: f[4]}
		content[f[0]], content[f[1]] = e, e
		if f[2] != "-" {
			structure[f[2]] = e
		}
	}
	return content, structure
}

// Identify reads the file at path and looks it up by content.
func Identify(path string) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Model{}, fmt.Errorf("model %s: %w", path, err)
	}
	m := Model{Path: path, SHA256: hexSum(b)}
	if looksXML(b) {
		m.Structure, m.StructureErr = cascadeStructure(b)
	} else {
		m.StructureErr = errNotXML
	}
	e, ok := known[m.SHA256]
	if !ok {
		e, ok = known[hexSum(normalize(b))]
	}
	if ok {
		m.Detects, m.KnownAs, m.MatchedBy = e.detects, e.name, MatchContent
		return m, nil
	}
	// An edited biometric cascade detects what it did. An edited person
	// cascade is no longer the known one: like any model, it needs a
	// declaration.
	if e, ok := structures[m.Structure]; ok && m.Structure != "" && e.detects != DetectsPerson {
		m.Detects, m.KnownAs, m.MatchedBy = e.detects, e.name, MatchStructure
	}
	return m, nil
}

// looksXML reports whether b starts like an XML document (after a byte
// order mark and white space), so that large binary models (ONNX) are not
// parsed.
func looksXML(b []byte) bool {
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

var xmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)

// normalize returns b without XML comments and without any whitespace: the
// same cascade however it is indented or annotated. Non-XML files pass
// through with their whitespace removed, which is harmless for lookup.
func normalize(b []byte) []byte {
	b = xmlComment.ReplaceAll(b, nil)
	return bytes.Join(bytes.Fields(b), nil)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
