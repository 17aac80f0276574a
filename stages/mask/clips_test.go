package mask_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/stages/decode"
	"github.com/edgeprivacy/edge/stages/mask"
)

// TestEveryTestClipHasNoPrivatePixel decodes every clip under testvideos/
// (the demo clip, the synthetic walk and each scenario's, including the one
// that changes resolution mid-stream) with the production decoder, masks
// each frame in YUV as cameras do, and checks every frame against the
// independent rasterisation: luma, the conservative chroma rule and the BGR
// a detector or snapshot would see. TestWholeClipHasNoPrivatePixel covers a
// clip converted from BGR; this covers the planes libavcodec hands over
// (their strides and sizes), on every clip the project ships.
func TestEveryTestClipHasNoPrivatePixel(t *testing.T) {
	clips, err := filepath.Glob("../../testvideos/*.mp4")
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := filepath.Glob("../../testvideos/scenarios/*/clip.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range scenarios {
		if ext := filepath.Ext(c); ext == ".mp4" || ext == ".ts" {
			clips = append(clips, c)
		}
	}
	// vtest, synthetic-walk and three scenarios at the time of writing: a
	// glob that finds fewer has lost its way.
	if len(clips) < 5 {
		t.Fatalf("found %d test clips (%q): want every clip under testvideos/", len(clips), clips)
	}
	color := [3]uint8{0, 255, 0} // green: neither black nor a luma a clip often has
	for _, path := range clips {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			st, err := mask.New(mask.Config{Zones: set(privacy), Color: color, Block: true})
			if err != nil {
				t.Fatal(err)
			}
			d, err := decode.New(decode.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			check := independent(privacy)
			var sizes []string
			frames, leaked := 0, 0
			apply := func(fs []decode.Frame) {
				for _, f := range fs {
					m, err := st.Apply(f)
					if err != nil {
						t.Fatalf("frame %d: %v", frames, err)
					}
					sz := m.Size()
					if s := sz.String(); !slices.Contains(sizes, s) {
						sizes = append(sizes, s)
					}
					res := checkMasked(t, m, check, color)
					m.Close()
					if res.Checked == 0 {
						t.Fatalf("frame %d (%v): no private pixel to check", frames, sz)
					}
					if res.Leaked > 0 {
						leaked++
					}
					frames++
				}
			}
			err = mediafile.ReadFile(context.Background(), path, func(au media.AccessUnit) error {
				fs, err := d.DecodeAU(au)
				apply(fs)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			fs, err := d.Flush()
			if err != nil {
				t.Fatal(err)
			}
			apply(fs)
			if frames == 0 {
				t.Fatal("no frame decoded")
			}
			if leaked > 0 {
				t.Fatalf("%d of %d frames leaked private pixels", leaked, frames)
			}
			t.Logf("%d frames (%v) masked, none leaked", frames, sizes)
		})
	}
}
