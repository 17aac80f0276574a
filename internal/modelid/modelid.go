// Package modelid identifies detector model files by their content, not
// their name: a face cascade renamed people.xml is still a face cascade.
//
// known.txt lists models by SHA-256, both of the file and of its XML with
// comments and whitespace removed (so that re-indenting a cascade does not
// hide it): every face, eye, smile and licence-plate cascade and every LBP
// face cascade in Debian's opencv-data, refused whatever the file is called,
// and the full, upper and lower body cascades, the only known person
// detectors. Any other model needs an explicit declaration in the config.
package modelid

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

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
}

// Biometric reports whether the model is a known detector of faces or other
// biometric features (or of licence plates, which identify people too).
func (m Model) Biometric() bool { return m.Detects != DetectsUnknown && m.Detects != DetectsPerson }

// Person reports whether the model is a known person detector.
func (m Model) Person() bool { return m.Detects == DetectsPerson }

type entry struct{ detects, name string }

// known maps both kinds of hash to the model they identify.
var known = parseKnown(knownTxt)

func parseKnown(s string) map[string]entry {
	m := map[string]entry{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			panic(fmt.Sprintf("modelid: known.txt line %q: want 4 fields", line))
		}
		e := entry{detects: f[2], name: f[3]}
		m[f[0]], m[f[1]] = e, e
	}
	return m
}

// Identify reads the file at path and looks it up by content.
func Identify(path string) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Model{}, fmt.Errorf("model %s: %w", path, err)
	}
	m := Model{Path: path, SHA256: hexSum(b)}
	e, ok := known[m.SHA256]
	if !ok {
		e, ok = known[hexSum(normalize(b))]
	}
	if ok {
		m.Detects, m.KnownAs = e.detects, e.name
	}
	return m, nil
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
