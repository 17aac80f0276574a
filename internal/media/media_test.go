package media_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/media"
)

func TestCodecString(t *testing.T) {
	for c, want := range map[media.Codec]string{media.H264: "H.264", media.H265: "H.265", 0: "unknown", 7: "unknown"} {
		if got := c.String(); got != want {
			t.Errorf("Codec(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
