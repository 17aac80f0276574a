package encode_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/resourceleak"
)

// TestMain fails the run if a goroutine or (with -tags matprofile) a gocv
// Mat outlives the tests.
func TestMain(m *testing.M) { resourceleak.Main(m) }
