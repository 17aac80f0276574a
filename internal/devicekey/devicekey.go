package devicekey

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"
	"github.com/edgeprivacy/edge/internal/privfile"
)

// EnvPath names the environment variable that overrides DefaultPath.
const EnvPath = "EDGE_DEVICE_KEY"

// fileHeader opens every key file; Load refuses files without it, so a
// minisign secret key or some other file given by mistake is named as such.
const fileHeader = "edge device key v1: Ed25519 seed, keep secret\n"

// ErrNoKey is returned by Load when the key file does not exist.
var ErrNoKey = errors.New("devicekey: no key file")

// Key is the device's signing key. The zero value is not usable; get one
// from Load or LoadOrCreate.
type Key struct {
	path string
	priv minisign.PrivateKey
	pub  minisign.PublicKey
}

// DefaultPath is where the device key lives unless a command is told
// otherwise: $EDGE_DEVICE_KEY when set, else edge/device.key in the user's
// configuration folder ($XDG_CONFIG_HOME or ~/.config).
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("devicekey: no configuration folder (%w): set %s or pass --key", err, EnvPath)
	}
	return filepath.Join(dir, "edge", "device.key"), nil
}

// Load reads an existing key. It returns an error wrapping ErrNoKey when the
// file does not exist, and refuses a file that group or others may read.
func Load(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: create one with `edge key show` or any signing command", ErrNoKey, path)
	}
	if err != nil {
		return nil, fmt.Errorf("devicekey: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("devicekey: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("devicekey: %s is readable by others (mode %04o): run `chmod 600 %s`, and treat the key as exposed", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devicekey: %w", err)
	}
	seed, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("devicekey: %s: %w", path, err)
	}
	return fromSeed(path, seed)
}

// LoadOrCreate loads the key at path, creating it (and its folder, 0700)
// when there is none. created says whether this call made it. Two processes
// racing to create the key end up with the same one: the file appears
// atomically and only once.
func LoadOrCreate(path string) (k *Key, created bool, err error) {
	k, err = Load(path)
	if err == nil || !errors.Is(err, ErrNoKey) {
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("devicekey: key folder: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(rand.Reader, seed); err != nil {
		return nil, false, fmt.Errorf("devicekey: random seed: %w", err)
	}
	if err := writeExclusive(path, format(seed)); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			k, err = Load(path)
			return k, false, err
		}
		return nil, false, err
	}
	k, err = fromSeed(path, seed)
	return k, err == nil, err
}

// writeExclusive writes data to a 0600 temporary file beside path and links
// it into place, so readers never see a half-written key and an existing key
// is never replaced.
func writeExclusive(path string, data []byte) error {
	tmp, err := privfile.WriteTemp(path, data, 0o600)
	if err != nil {
		return fmt.Errorf("devicekey: writing key: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("devicekey: placing key at %s: %w", path, err)
	}
	return nil
}

func format(seed []byte) []byte {
	return []byte(fileHeader + base64.StdEncoding.EncodeToString(seed) + "\n")
}

func parse(b []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte(fileHeader))
	if !ok {
		return nil, errors.New("not an edge device key (first line differs)")
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(rest)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("damaged key: want one base64 line of a 32-byte seed")
	}
	return seed, nil
}

func fromSeed(path string, seed []byte) (*Key, error) {
	// minisign.GenerateKey reads exactly the Ed25519 seed from its reader, so
	// the same seed always gives the same key and key id.
	pub, priv, err := minisign.GenerateKey(bytes.NewReader(seed))
	if err != nil {
		return nil, fmt.Errorf("devicekey: %w", err)
	}
	return &Key{path: path, priv: priv, pub: pub}, nil
}

// Path is the file the key was loaded from.
func (k *Key) Path() string { return k.path }

// PublicKey is the key that checks this device's signatures.
func (k *Key) PublicKey() minisign.PublicKey { return k.pub }

// PublicKeyFile is the public key in minisign's .pub file format, ready to
// hand to `minisign -V -p FILE`.
func (k *Key) PublicKeyFile() []byte {
	b, _ := k.pub.MarshalText() // documented never to fail
	return append(b, '\n')
}

// Fingerprint is the SHA-256 of the raw public key, for reading aloud or
// comparing by eye.
func (k *Key) Fingerprint() string { return Fingerprint(k.pub) }

// Sign signs msg and returns a minisign signature file (.minisig). Its
// trusted comment, covered by the signature, names the key fingerprint and
// the signing time.
func (k *Key) Sign(msg []byte) []byte {
	return k.SignWithComment(msg, "edge device key "+k.Fingerprint()+" timestamp:"+strconv.FormatInt(time.Now().Unix(), 10))
}

// SignWithComment is Sign with the caller's trusted comment (one line).
// The signature is minisign's pre-hashed kind (BLAKE2b-512, algorithm "ED"),
// the default of the minisign tool since 0.10.
func (k *Key) SignWithComment(msg []byte, trustedComment string) []byte {
	r := minisign.NewReader(bytes.NewReader(msg))
	_, _ = io.Copy(io.Discard, r) // reading from memory cannot fail
	sig := r.SignWithComments(k.priv, strings.ReplaceAll(trustedComment, "\n", " "), "signature from edge device key "+k.Fingerprint())
	return append(sig, '\n')
}

// Fingerprint is "SHA256:" and the hex SHA-256 of the raw 32-byte public key.
func Fingerprint(pub minisign.PublicKey) string {
	// The minisign encoding is algorithm(2) | key id(8) | key(32).
	raw, err := base64.StdEncoding.DecodeString(pub.String())
	if err != nil || len(raw) != 42 {
		return "invalid key"
	}
	sum := sha256.Sum256(raw[10:])
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// ReadPublicKey reads a minisign public key file (as `edge key show` prints
// and `minisign -G` writes).
func ReadPublicKey(path string) (minisign.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return minisign.PublicKey{}, fmt.Errorf("public key: %w", err)
	}
	var pub minisign.PublicKey
	if err := pub.UnmarshalText(bytes.TrimSpace(b)); err != nil {
		return minisign.PublicKey{}, fmt.Errorf("public key %s: %w", path, err)
	}
	return pub, nil
}

// Verify checks a minisign signature over msg with pub. It accepts both
// pre-hashed and legacy minisign signatures, like the minisign tool.
func Verify(pub minisign.PublicKey, msg, sig []byte) error {
	r := minisign.NewReader(bytes.NewReader(msg))
	_, _ = io.Copy(io.Discard, r)
	if r.Verify(pub, sig) || minisign.Verify(pub, msg, sig) {
		return nil
	}
	return errors.New("signature does not match the message and public key")
}

// TrustedComment returns the signed comment of a minisign signature; it is
// meaningful only after Verify succeeded.
func TrustedComment(sig []byte) (string, error) {
	var s minisign.Signature
	if err := s.UnmarshalText(bytes.TrimSpace(sig)); err != nil {
		return "", fmt.Errorf("signature: %w", err)
	}
	return s.TrustedComment, nil
}
