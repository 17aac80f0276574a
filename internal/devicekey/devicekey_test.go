package devicekey_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgeprivacy/edge/internal/devicekey"
)

func TestCreateOnFirstUseThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "device.key")
	if _, err := devicekey.Load(path); !errors.Is(err, devicekey.ErrNoKey) {
		t.Fatalf("Load before creation: got %v, want ErrNoKey", err)
	}
	k, created, err := devicekey.LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate: created=%v err=%v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("key folder mode %04o, want no group/other access", perm)
	}
	again, created, err := devicekey.LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	if !again.PublicKey().Equal(k.PublicKey()) || again.Fingerprint() != k.Fingerprint() {
		t.Fatalf("reloaded key differs: %s vs %s", again.Fingerprint(), k.Fingerprint())
	}
	if !strings.HasPrefix(k.Fingerprint(), "SHA256:") || len(k.Fingerprint()) != 7+64 {
		t.Errorf("fingerprint %q, want SHA256:<64 hex>", k.Fingerprint())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key folder holds %d entries, want only the key (temporary files removed)", len(entries))
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	if _, _, err := devicekey.LoadOrCreate(good); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(good)
	cases := []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"readable by group", body, 0o640, "chmod 600"},
		{"readable by all", body, 0o644, "chmod 600"},
		{"minisign secret key", []byte("untrusted comment: minisign encrypted secret key\nRWRTY0Iy\n"), 0o600, "not an edge device key"},
		{"truncated seed", body[:len(body)-20], 0o600, "damaged key"},
		{"empty", nil, 0o600, "not an edge device key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(p, c.data, c.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, c.mode); err != nil {
				t.Fatal(err)
			}
			_, err := devicekey.Load(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: got %v, want error containing %q", err, c.want)
			}
			if _, _, err := devicekey.LoadOrCreate(p); err == nil {
				t.Fatal("LoadOrCreate replaced or accepted a bad key file")
			}
			if got, _ := os.ReadFile(p); !bytes.Equal(got, c.data) {
				t.Fatal("LoadOrCreate changed an existing file")
			}
		})
	}
}

func TestConcurrentCreateGivesOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.key")
	const n = 8
	fps := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, _, err := devicekey.LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			fps[i] = k.Fingerprint()
		})
	}
	wg.Wait()
	for i := range fps {
		if fps[i] != fps[0] {
			t.Fatalf("racing creators got different keys: %v", fps)
		}
	}
}

func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	k, _, err := devicekey.LoadOrCreate(filepath.Join(dir, "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := devicekey.LoadOrCreate(filepath.Join(dir, "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("manifest\nreport.json sha256...\n")
	sig := k.SignWithComment(msg, "report run 7\nsecond line")
	if err := devicekey.Verify(k.PublicKey(), msg, sig); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if tc, err := devicekey.TrustedComment(sig); err != nil || tc != "report run 7 second line" {
		t.Errorf("trusted comment %q, %v", tc, err)
	}
	tampered := bytes.Replace(msg, []byte("7"), []byte("8"), 1)
	tampered = append(tampered, '!')
	if devicekey.Verify(k.PublicKey(), tampered, sig) == nil {
		t.Error("changed message verified")
	}
	if devicekey.Verify(other.PublicKey(), msg, sig) == nil {
		t.Error("another key's public key verified the signature")
	}
	if devicekey.Verify(k.PublicKey(), msg, other.Sign(msg)) == nil {
		t.Error("another key's signature verified")
	}
	pubPath := filepath.Join(dir, "device.pub")
	if err := os.WriteFile(pubPath, k.PublicKeyFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	pub, err := devicekey.ReadPublicKey(pubPath)
	if err != nil || !pub.Equal(k.PublicKey()) {
		t.Fatalf("ReadPublicKey: %v", err)
	}
}

// TestMinisignToolVerifies is the inspector's path: the stock minisign tool,
// not our code, checks the signature.
func TestMinisignToolVerifies(t *testing.T) {
	tool, err := exec.LookPath("minisign")
	if err != nil {
		t.Fatal("minisign not installed: run scripts/deps.sh")
	}
	dir := t.TempDir()
	k, _, err := devicekey.LoadOrCreate(filepath.Join(dir, "device.key"))
	if err != nil {
		t.Fatal(err)
	}
	msgPath, sigPath, pubPath := filepath.Join(dir, "m"), filepath.Join(dir, "m.minisig"), filepath.Join(dir, "k.pub")
	msg := []byte("hello inspector\n")
	for p, b := range map[string][]byte{msgPath: msg, sigPath: k.Sign(msg), pubPath: k.PublicKeyFile()} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(tool, "-V", "-p", pubPath, "-m", msgPath, "-x", sigPath).CombinedOutput()
	if err != nil {
		t.Fatalf("minisign -V rejected our signature: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), k.Fingerprint()) {
		t.Errorf("minisign did not show the trusted comment with the fingerprint:\n%s", out)
	}
	if err := os.WriteFile(msgPath, []byte("hello inspectoR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "-V", "-p", pubPath, "-m", msgPath, "-x", sigPath).CombinedOutput(); err == nil {
		t.Fatalf("minisign accepted a changed message:\n%s", out)
	}
}
