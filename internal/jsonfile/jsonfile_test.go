package jsonfile_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/jsonfile"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	type doc struct {
		N int `json:"n"`
	}
	t.Run("valid", func(t *testing.T) {
		var d doc
		if err := jsonfile.Read(write("ok.json", `{"n":3}`), &d); err != nil || d.N != 3 {
			t.Fatalf("Read = %v, %+v; want nil, {N:3}", err, d)
		}
	})
	t.Run("missing", func(t *testing.T) {
		var d doc
		err := jsonfile.Read(filepath.Join(dir, "none.json"), &d)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Read of a missing file = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		var d doc
		p := write("bad.json", `{"n":`)
		err := jsonfile.Read(p, &d)
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) || !strings.Contains(err.Error(), p+": not valid JSON") {
			t.Fatalf("Read of malformed JSON = %v, want a *json.SyntaxError naming %s", err, p)
		}
	})
}
