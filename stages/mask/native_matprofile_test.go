//go:build matprofile

package mask_test

import (
	"errors"
	"testing"

	"gocv.io/x/gocv"

	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
)

// TestApplyFreesTheNativeCopy: a decode.Frame with an unmasked native copy
// is owned by Apply as a whole: the masked frame keeps only the picture, and
// the copy is closed whether masking succeeds or fails.
func TestApplyFreesTheNativeCopy(t *testing.T) {
	st, err := mask.New(mask.Config{Zones: set(privacy), Block: true})
	if err != nil {
		t.Fatal(err)
	}
	before := gocv.MatProfile.Count()
	native := func() gocv.Mat { return gocv.NewMatWithSize(48, 64, gocv.MatTypeCV8UC3) }
	m, err := st.Apply(decode.Frame{Pic: blank(t, 64, 48), Native: native(), Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := st.Apply(decode.Frame{Native: native(), Seq: 2}); !errors.Is(err, mask.ErrUnmaskable) {
		t.Fatalf("a frame without a picture: err = %v, want ErrUnmaskable", err)
	}
	if after := gocv.MatProfile.Count(); after != before {
		t.Errorf("%d Mats open after Apply and Close, want %d: the native copy leaked", after, before)
	}
}
