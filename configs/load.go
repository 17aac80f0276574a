package configs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix is the prefix of environment overrides: key mqtt.broker is
// overridden by EDGE_MQTT_BROKER.
const EnvPrefix = "EDGE"

// EnvKeys are the keys environment variables may override (EDGE_ + the key
// upper-cased with '.' as '_'), so that secrets such as EDGE_MQTT_PASSWORD
// need not sit in the file. Lists (cameras, signage) come from the file only.
// An empty variable is ignored, like an unset one.
var EnvKeys = []string{
	"site",
	"box_id",
	"mqtt.broker",
	"mqtt.brokers",
	"mqtt.heartbeat_seconds",
	"mqtt.topic_prefix",
	"mqtt.client_id",
	"mqtt.username",
	"mqtt.password",
	"mqtt.qos",
	"mqtt.spool_dir",
	"mqtt.tls.ca",
	"mqtt.tls.cert",
	"mqtt.tls.key",
	"restream.addr",
	"restream.username",
	"restream.password",
	"http.addr",
	"http.username",
	"http.password",
	"audit.dir",
}

// Load reads the YAML file at path, applies environment overrides, rejects
// unknown keys, fills defaults and validates. Errors name the file; a
// validation failure is a *ValidationError listing every problem.
func Load(path string) (*Config, error) { return LoadContext(context.Background(), path) }

// LoadContext is Load that gives up soon after ctx is done (SIGTERM during
// the load of a large config), with an error wrapping ErrStopped. The YAML
// parse and the schema decode cannot be interrupted, so they run on their
// own goroutine whose result is dropped when ctx ends first; validation
// checks ctx between cameras and zones.
func LoadContext(ctx context.Context, path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: read: %w", path, err)
	}
	defer f.Close()
	b, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("config %s: %w", path, stopped(ctx))
	}
	type result struct {
		c   *Config
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned parse does not block
	go func() {
		c, err := parse(b, path)
		done <- result{c, err}
	}()
	var c *Config
	select {
	case r := <-done:
		if r.err != nil {
			return nil, alsoValidate(ctx, r.err, path, b)
		}
		c = r.c
	case <-ctx.Done():
		return nil, fmt.Errorf("config %s: %w", path, stopped(ctx))
	}
	return validate(ctx, c, path, b)
}

// alsoValidate adds to a decode error what validation finds in the rest of
// the file, where the decode failed only on unknown keys: a reload rejected
// for a typo then also names, say, a purpose outside the law, so the
// operator fixes everything in one go instead of one problem per try.
func alsoValidate(ctx context.Context, err error, name string, src []byte) error {
	de := (*DecodeError)(nil)
	if !errors.As(err, &de) || de.partial == nil {
		return err
	}
	c := de.partial
	de.partial = nil
	_, verr := validate(ctx, c, name, src)
	if ve := (*ValidationError)(nil); errors.As(verr, &ve) {
		for _, p := range ve.Problems {
			de.Problems = append(de.Problems, p.String())
		}
	}
	return de
}

// ErrStopped marks a load abandoned because its context was done.
var ErrStopped = errors.New("loading stopped before the config was fully checked")

// stopped is the error for a load cut short by ctx, naming the cause (the
// signal, for a context from signal.NotifyContext).
func stopped(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrStopped, context.Cause(ctx))
}

// Parse is Load for YAML from a reader; errors name the source as "<input>".
func Parse(r io.Reader) (*Config, error) {
	b, err := readLimited(r)
	if err != nil {
		return nil, fmt.Errorf("config <input>: %w", err)
	}
	c, err := parse(b, "<input>")
	if err != nil {
		return nil, alsoValidate(context.Background(), err, "<input>", b)
	}
	return validate(context.Background(), c, "<input>", b)
}

// parse reads the YAML b and decodes it into a Config, before defaults and
// validation; errors name the source as name.
func parse(b []byte, name string) (*Config, error) {
	v, err := read(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: read: %w", name, err)
	}
	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHook())); err != nil {
		de := &DecodeError{File: name, Problems: decodeProblems(err, sourceTree(b)), err: err}
		// Unknown keys are the only thing a loose decode ignores: when it
		// succeeds, they were the only problem of the decode, and the rest
		// of the file is still worth validating.
		var loose Config
		if v.Unmarshal(&loose, viper.DecodeHook(decodeHook())) == nil {
			de.partial = &loose
		}
		return nil, de
	}
	return &c, nil
}

// read parses YAML into a fresh viper. A key the environment may override,
// or one above it, written with nothing after it (`mqtt:` alone is a null)
// is dropped first: viper kept the null beside the override of a key under
// it, and which of the two won depended on map order, so EDGE_MQTT_BROKERS
// applied in about half the loads.
func read(b []byte) (*viper.Viper, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		if isSyntax(err) {
			return nil, locateSyntax(b, err)
		}
		return nil, err
	}
	dropEnvNulls(m, "")
	v := newViper()
	if err := v.MergeConfigMap(m); err != nil {
		return nil, err
	}
	return v, nil
}

// dropEnvNulls removes from m (at key path prefix) the null values of keys
// that are, or hold, an environment-overridable key.
func dropEnvNulls(m map[string]any, prefix string) {
	for k, val := range m {
		path := strings.ToLower(prefix + k)
		if !envPath(path) {
			continue
		}
		switch x := val.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropEnvNulls(x, path+".")
		}
	}
}

// envPath reports whether path is one of EnvKeys or a section above one.
func envPath(path string) bool {
	for _, k := range EnvKeys {
		if k == path || strings.HasPrefix(k, path+".") {
			return true
		}
	}
	return false
}

// MaxBytes is the largest config accepted: a real one is a few kilobytes,
// and the YAML parser holds the whole file (and more) in memory.
const MaxBytes = 10 << 20

// ErrTooLarge marks a config over MaxBytes.
var ErrTooLarge = fmt.Errorf("larger than %d MB", MaxBytes>>20)

// readLimited reads r whole, refusing more than MaxBytes before parsing.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(b) > MaxBytes {
		return nil, fmt.Errorf("%w: a config holds cameras, zones and signs, a few kilobytes; check the path", ErrTooLarge)
	}
	return b, nil
}

// LoadBytes is Parse for YAML in memory.
func LoadBytes(b []byte) (*Config, error) { return Parse(bytes.NewReader(b)) }

// newViper returns a fresh viper, never the global one, so that loads and
// reloads share no state.
func newViper() *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	// Explicit bindings rather than AutomaticEnv: AutomaticEnv answers only
	// for keys the file happens to contain, and would let EDGE_CAMERAS
	// replace the camera list with a string.
	for _, k := range EnvKeys {
		_ = v.BindEnv(k) // fails only for an empty key list
	}
	v.SetDefault("mqtt.qos", DefaultQoS)
	return v
}

// validate fills the defaults of c and checks it; src, the YAML c was read
// from, locates the problems of a config that fails.
func validate(ctx context.Context, c *Config, name string, src []byte) (*Config, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("config %s: %w", name, stopped(ctx))
	}
	c.ApplyDefaults()
	if err := c.ValidateContext(ctx); err != nil {
		if ve := (*ValidationError)(nil); errors.As(err, &ve) && ctx.Err() == nil {
			locateProblems(src, ve)
		}
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// decodeHook keeps viper's default hooks and adds times and colour checks.
func decodeHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		// EDGE_MQTT_BROKERS=tcp://a:1883,tcp://b:1883
		mapstructure.StringToSliceHookFunc(","),
		stringToTime,
		colorLength,
	)
}

var (
	timeType  = reflect.TypeOf(time.Time{})
	colorType = reflect.TypeOf([3]int{})
)

// stringToTime accepts RFC 3339 and, for convenience, a bare date (UTC
// midnight). yaml.v3 hands timestamps over as strings when decoding into
// the untyped maps viper uses.
func stringToTime(f, t reflect.Type, data any) (any, error) {
	if t != timeType || f.Kind() != reflect.String {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return time.Time{}, nil
	}
	if ts, err := time.Parse(time.RFC3339, s); err == nil {
		return ts, nil
	}
	if ts, err := time.Parse(time.DateOnly, s); err == nil {
		return ts, nil
	}
	return nil, fmt.Errorf("time %q is not RFC 3339; write it like 2026-01-01T00:00:00Z or 2026-01-01", s)
}

// colorLength rejects colours that are not exactly [r, g, b]: mapstructure
// would silently zero-fill a short list.
func colorLength(f, t reflect.Type, data any) (any, error) {
	if t != colorType {
		return data, nil
	}
	if k := f.Kind(); k == reflect.Slice || k == reflect.Array {
		if n := reflect.ValueOf(data).Len(); n != 3 {
			return nil, fmt.Errorf("got %d numbers, write it as [r, g, b] with each 0..255", n)
		}
		return data, nil
	}
	return nil, fmt.Errorf("got %v, write it as [r, g, b] with each 0..255", data)
}

// DecodeError is a file that YAML-parsed but does not fit the schema:
// unknown keys (often typos) or values of the wrong type.
type DecodeError struct {
	// File is the path loaded, or "<input>".
	File string
	// Problems are the individual complaints, one line each, naming the key.
	Problems []string
	err      error
	// partial is the config decoded without the unknown keys, for
	// alsoValidate; nil where the decode failed for another reason.
	partial *Config
}

// Error lists every problem, one per line, after the file name.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("config %s does not match the schema (see configs/example.yaml):\n  %s",
		e.File, strings.Join(e.Problems, "\n  "))
}

// Unwrap returns mapstructure's error.
func (e *DecodeError) Unwrap() error { return e.err }

// decodeProblems flattens mapstructure's joined errors into one readable
// line per key, each with its position under root (the file's YAML; nil
// for none), in the order of the file.
func decodeProblems(err error, root *yaml.Node) []string {
	type problem struct {
		pos  position
		text string
	}
	var out []problem
	add := func(path, key, text string) {
		var pos position
		if n, ok := locate(root, path, true); ok && key != "" {
			if k := mapKey(n, key); k != nil {
				pos = position{k.Line, k.Column}
			}
		} else if ok {
			pos = position{n.Line, n.Column}
		}
		out = append(out, problem{pos, text})
	}
	var walk func(error)
	walk = func(err error) {
		// The tree is walked here, join by join: errors.As would stop at the
		// first DecodeError of a joined set and hide the others.
		if de, ok := err.(*mapstructure.DecodeError); ok { //nolint:errorlint // see above

			key := de.Name()
			if key == "" {
				key = "(top level)"
			}
			var msg string
			if inner := de.Unwrap(); inner != nil {
				if isJoin(inner) {
					walk(inner)
					return
				}
				msg = inner.Error()
			}
			if rest, ok := strings.CutPrefix(msg, "has invalid keys: "); ok {
				valid := keysAt(de.Name())
				for _, k := range strings.Split(rest, ", ") {
					fix := "remove it or fix the spelling"
					if s := Nearest(k, valid); s != "" {
						fix = "did you mean " + s + "?"
					}
					add(de.Name(), k, fmt.Sprintf("%s: unknown key %s; %s", key, k, fix))
				}
				return
			}
			add(de.Name(), "", key+": "+msg)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil && strings.HasPrefix(err.Error(), "decoding failed") {
			// mapstructure's generic header over the joined list.
			walk(u)
			return
		}
		out = append(out, problem{text: err.Error()})
	}
	walk(err)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.pos != b.pos {
			return a.pos.line < b.pos.line || (a.pos.line == b.pos.line && a.pos.col < b.pos.col)
		}
		return a.text < b.text
	})
	lines := make([]string, len(out))
	for i, p := range out {
		lines[i] = p.pos.String() + p.text
	}
	return lines
}

func isJoin(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}

// keysAt lists the keys the file may have at path (mapstructure's name of a
// level: "", "mqtt", "cameras[0].detect"), for suggestions.
func keysAt(path string) []string {
	t := reflect.TypeOf(Config{})
	if path != "" {
		for _, part := range strings.Split(path, ".") {
			if i := strings.IndexByte(part, '['); i >= 0 {
				part = part[:i]
			}
			f, ok := fieldByKey(t, part)
			if !ok {
				return nil
			}
			t = f.Type
			for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Array {
				t = t.Elem()
			}
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("mapstructure"); k != "" && k != "-" {
			keys = append(keys, strings.Split(k, ",")[0])
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if strings.Split(t.Field(i).Tag.Get("mapstructure"), ",")[0] == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}
