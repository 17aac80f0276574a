package averror_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/edgeprivacy/edge/internal/averror"
)

func TestText(t *testing.T) {
	// AVERROR(EINVAL) is -EINVAL; FFmpeg describes it with strerror.
	if got := averror.Text(-int(syscall.EINVAL)); !strings.Contains(got, "Invalid argument") {
		t.Errorf("Text(AVERROR(EINVAL)) = %q", got)
	}
	// AVERROR_INVALIDDATA is FFERRTAG('I','N','D','A').
	const invalidData = -int('I' | 'N'<<8 | 'D'<<16 | 'A'<<24)
	if got := averror.Text(invalidData); !strings.Contains(got, "Invalid data") {
		t.Errorf("Text(AVERROR_INVALIDDATA) = %q", got)
	}
}
