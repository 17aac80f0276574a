// Package payloadschema checks MQTT payloads against the JSON Schema files
// subscribers are given in docs/schema, so that the documented contract and
// what edge publishes cannot drift apart unnoticed.
package payloadschema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema names: docs/schema/{name}.schema.json.
const (
	Event      = "event"
	State      = "state"
	Compliance = "compliance"
	Alert      = "alert"
)

// Dir is docs/schema of this source tree.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "schema")
}

// Schemas holds compiled schemas by name.
type Schemas map[string]*jsonschema.Schema

// Load compiles the named schemas from Dir, with formats (date-time) asserted.
func Load(names ...string) (Schemas, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := Schemas{}
	for _, n := range names {
		path := filepath.Join(Dir(), n+".schema.json")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("payloadschema: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("payloadschema: %s: %w", path, err)
		}
		if err := c.AddResource(path, doc); err != nil {
			return nil, fmt.Errorf("payloadschema: %s: %w", path, err)
		}
		s, err := c.Compile(path)
		if err != nil {
			return nil, fmt.Errorf("payloadschema: compile %s: %w", path, err)
		}
		out[n] = s
	}
	return out, nil
}

// Validate checks payload (JSON) against the named schema.
func (s Schemas) Validate(name string, payload []byte) error {
	sch, ok := s[name]
	if !ok {
		return fmt.Errorf("payloadschema: schema %q not loaded", name)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("payloadschema: payload is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("payloadschema: %s: %w", name, err)
	}
	return nil
}
