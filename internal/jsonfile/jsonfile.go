// Package jsonfile reads a file that holds one JSON document, for the files
// edge reads back (ground truth, detection logs), so that each says the same
// thing when a file is missing or malformed.
package jsonfile

import (
	"encoding/json"
	"fmt"
	"os"
)

// Read decodes the JSON document in the file at path into v. The error names
// the path: the one from os.ReadFile, or "PATH: not valid JSON: ...".
func Read(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	return nil
}
