package configs

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/edgeprivacy/edge/internal/modelid"
)

// personTarget is what a declared model may detect: people, as a whole.
var personTarget = regexp.MustCompile(`(?i)\b(person|persons|people|pedestrians?|full[ -]?body|upper[ -]?body|human bod(y|ies))\b`)

// Models identifies the detector's model files by content, in the order
// model, model_config; empty for kind hog. Unreadable files are skipped
// (Validate reports them).
func (d *Detect) Models() []modelid.Model {
	if d.Kind == "hog" {
		return nil
	}
	var out []modelid.Model
	for _, f := range []string{d.Model, d.ModelConfig} {
		if f == "" {
			continue
		}
		if m, err := modelid.Identify(f); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// validateModel refuses a known biometric model whatever its name, and asks
// for a declaration for any model that is not a known person detector.
func (d *Detect) validateModel(v *validator, p string) {
	if biometricModel.MatchString(filepath.Base(d.Model)) {
		return // already refused by its name
	}
	m, err := modelid.Identify(d.Model)
	if err != nil {
		v.add(p+".detect.model", "check the path; the file must be readable by edge", "%v", err)
		return
	}
	const useFix = "use a person (full body) detector, e.g. kind: hog, or /usr/share/opencv4/haarcascades/haarcascade_fullbody.xml; faces and other biometric features are never analysed"
	switch {
	case m.Biometric():
		v.add(p+".detect.model", useFix, "model %q (sha256 %s) is %s, a %s detector, whatever the file is called",
			d.Model, m.SHA256[:16], m.KnownAs, m.Detects)
		return
	case m.Person():
		return
	}
	decl := d.ModelDeclaration
	const declFix = "add detect.model_declaration: {detects: person, declared_by: \"name, role\"} after checking the model detects whole people only, or use kind: hog"
	switch {
	case decl == nil:
		v.add(p+".detect.model_declaration", declFix, "model %q (sha256 %s) is not a known person detector and has no declaration", d.Model, m.SHA256[:16])
	case biometricModel.MatchString(decl.Detects) || !personTarget.MatchString(decl.Detects):
		v.add(p+".detect.model_declaration.detects", useFix, "declared target %q is not people", decl.Detects)
	case strings.TrimSpace(decl.DeclaredBy) == "":
		v.add(p+".detect.model_declaration.declared_by", "name who vouches for the model (name and role or contact); it goes to the audit log", "declaration has no author")
	}
}
