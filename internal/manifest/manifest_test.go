package manifest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeprivacy/edge/internal/devicekey"
	"github.com/edgeprivacy/edge/internal/manifest"
)

func sealed(t *testing.T) (dir string, key *devicekey.Key) {
	t.Helper()
	key, _, err := devicekey.LoadOrCreate(filepath.Join(t.TempDir(), "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for name, body := range map[string]string{
		"report.json": `{"verdict": "FAIL"}`, "report.html": "<p>FAIL</p>", "sample-t0-000001.jpg": "jpeg",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs := []manifest.Input{{Role: "config", Path: "/etc/edge/site.yaml", SHA256: strings.Repeat("a", 64)}, {Role: "input", Path: "clip\nwith newline.mp4", SHA256: strings.Repeat("b", 64)}}
	if err := manifest.Seal(dir, inputs, key); err != nil {
		t.Fatal(err)
	}
	return dir, key
}

func TestCheck(t *testing.T) {
	other, _, err := devicekey.LoadOrCreate(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		other  bool
		want   []string
	}{
		{"untouched", func(*testing.T, string) {}, false, nil},
		{"verdict edited", func(t *testing.T, dir string) { write(t, dir, "report.json", `{"verdict": "PASS"}`) }, false, []string{"changed: report.json"}},
		{"html edited", func(t *testing.T, dir string) { write(t, dir, "report.html", "<p>PASS</p>") }, false, []string{"changed: report.html"}},
		{"sample removed", func(t *testing.T, dir string) { rm(t, dir, "sample-t0-000001.jpg") }, false, []string{"removed: sample-t0-000001.jpg"}},
		{"file added", func(t *testing.T, dir string) { write(t, dir, "extra.jpg", "x") }, false, []string{"added: extra.jpg"}},
		{"manifest re-hashed", func(t *testing.T, dir string) {
			write(t, dir, "report.json", `{"verdict": "PASS"}`)
			b, _ := os.ReadFile(filepath.Join(dir, manifest.Name))
			write(t, dir, manifest.Name, strings.Replace(string(b), "report.json", "report.jsom", 1))
		}, false, []string{"MANIFEST: signature does not match", "added: report.json", "removed: report.jsom"}},
		{"other key", func(*testing.T, string) {}, true, []string{"MANIFEST: signature does not match"}},
		{"sample swapped for a link to an identical copy", func(t *testing.T, dir string) {
			// Same bytes today, whatever the target holds tomorrow.
			elsewhere := filepath.Join(t.TempDir(), "copy.jpg")
			write(t, filepath.Dir(elsewhere), "copy.jpg", "jpeg")
			rm(t, dir, "sample-t0-000001.jpg")
			if err := os.Symlink(elsewhere, filepath.Join(dir, "sample-t0-000001.jpg")); err != nil {
				t.Fatal(err)
			}
		}, false, []string{"changed: sample-t0-000001.jpg"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, key := sealed(t)
			tc.tamper(t, dir)
			pub := key.PublicKey()
			if tc.other {
				pub = other.PublicKey()
			}
			r, err := manifest.Check(dir, pub)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Problems()
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
			if r.OK() != (tc.want == nil) {
				t.Errorf("OK() = %v with problems %q", r.OK(), got)
			}
			if len(r.Inputs) != 2 || r.Inputs[1].Path != "clip with newline.mp4" {
				t.Errorf("inputs %+v", r.Inputs)
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	for _, name := range []string{manifest.Name, manifest.Signature} {
		t.Run(name, func(t *testing.T) {
			dir, key := sealed(t)
			rm(t, dir, name)
			if _, err := manifest.Check(dir, key.PublicKey()); err == nil || !strings.Contains(err.Error(), "unreadable") {
				t.Fatalf("err = %v, want unreadable", err)
			}
		})
	}
	dir, key := sealed(t)
	write(t, dir, manifest.Signature, "not a signature")
	if _, err := manifest.Check(dir, key.PublicKey()); err == nil {
		t.Fatal("a garbage signature file was accepted")
	}
}

// TestIndependentTools checks the folder the way an inspector without our
// binary would: minisign for the manifest, sha256sum for the files.
func TestIndependentTools(t *testing.T) {
	dir, key := sealed(t)
	pub := filepath.Join(t.TempDir(), "device.pub")
	if err := os.WriteFile(pub, key.PublicKeyFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	minisign := func() error {
		return exec.Command("minisign", "-V", "-p", pub, "-m", filepath.Join(dir, manifest.Name)).Run()
	}
	sha := func() error {
		cmd := exec.Command("sha256sum", "--quiet", "-c", manifest.Name)
		cmd.Dir = dir
		return cmd.Run()
	}
	if err := minisign(); err != nil {
		t.Fatalf("minisign rejects a sealed folder: %v", err)
	}
	if err := sha(); err != nil {
		t.Fatalf("sha256sum -c rejects a sealed folder: %v", err)
	}
	write(t, dir, "report.json", `{"verdict": "PASS"}`)
	if sha() == nil {
		t.Error("sha256sum -c accepts an edited report.json")
	}
	b, _ := os.ReadFile(filepath.Join(dir, manifest.Name))
	write(t, dir, manifest.Name, string(b)+"# note\n")
	if minisign() == nil {
		t.Error("minisign accepts an edited MANIFEST")
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
