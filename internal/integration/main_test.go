package integration_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/resourceleak"
)

// TestMain fails the run if a goroutine or (with -tags matprofile) a gocv
// Mat outlives the tests: every test here stops its servers and stages and
// closes every frame it receives.
func TestMain(m *testing.M) { resourceleak.Main(m) }
