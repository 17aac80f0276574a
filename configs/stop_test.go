package configs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/configs"
)

// doneAfter is a context that reports itself cancelled from its n-th Err
// call on: it stops a validation at a chosen check, whatever the speed of
// the machine.
type doneAfter struct {
	context.Context
	n     int64
	calls atomic.Int64
	fired atomic.Int64 // UnixNano of the first Err that said cancelled
}

func (d *doneAfter) Err() error {
	if d.calls.Add(1) >= d.n {
		d.fired.CompareAndSwap(0, time.Now().UnixNano())
		return context.Canceled
	}
	return nil
}

// TestValidateStopsMidway stops the validation of a config of 4 cameras,
// each with 5 privacy zones of 1,000 points, at each of its checks: it
// returns ErrStopped at once, and a context never done lets it through.
func TestValidateStopsMidway(t *testing.T) {
	var b strings.Builder
	b.WriteString("site: big\nmqtt:\n  broker: tcp://127.0.0.1:1\ncameras:\n")
	for c := range 4 {
		fmt.Fprintf(&b, "  - id: cam%d\n    url: rtsp://127.0.0.1:1/c%d\n    zones:\n", c, c)
		for z := range 5 {
			fmt.Fprintf(&b, "      - id: z%d\n        kind: privacy\n        polygon: [", z)
			for i := range 1000 {
				a := 2 * math.Pi * float64(i) / 1000
				fmt.Fprintf(&b, "[%.5f, %.5f], ", 0.1+0.15*float64(z)+0.04*math.Cos(a), 0.5+0.04*math.Sin(a))
			}
			b.WriteString("]\n")
		}
	}
	cfg, err := configs.LoadBytes([]byte(b.String()))
	if err != nil {
		t.Fatalf("the config is legal: %v", err)
	}
	never := &doneAfter{Context: context.Background(), n: math.MaxInt64}
	if err := cfg.ValidateContext(never); err != nil {
		t.Fatal(err)
	}
	checks := never.calls.Load()
	if checks < 4+4*5 {
		t.Fatalf("%d checks of the context for 4 cameras of 5 zones; want one per camera and per zone at least", checks)
	}
	for n := int64(1); n <= checks; n++ {
		ctx := &doneAfter{Context: context.Background(), n: n}
		err := cfg.ValidateContext(ctx)
		if !errors.Is(err, configs.ErrStopped) || !errors.Is(err, context.Canceled) {
			t.Errorf("stopped at check %d of %d: %v, want ErrStopped naming the cause", n, checks, err)
		}
		if took := time.Since(time.Unix(0, ctx.fired.Load())); took > 100*time.Millisecond {
			t.Errorf("stopped at check %d: returned %v after the context said done", n, took)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := configs.LoadContext(ctx, path); !errors.Is(err, configs.ErrStopped) || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadContext with a cancelled context: %v, want ErrStopped naming the file", err)
	}
}
