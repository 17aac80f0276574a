package replay

import (
	"bytes"
	"os"
	"testing"

	"github.com/edgeprivacy/edge/internal/media"
)

// FuzzReadMP4 feeds corrupt files to the MP4 reader: it must return an error
// or a usable sample table, never panic or allocate without bound.
func FuzzReadMP4(f *testing.F) {
	for _, p := range []string{"testdata/tiny-h264.mp4", "testdata/tiny-h265.mp4", "testdata/bad/mpeg4.mp4"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, p, err := readMP4(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(d.samples) == 0 || d.first < 0 || d.first >= len(d.samples) {
			t.Fatalf("accepted a table with %d samples, first keyframe %d", len(d.samples), d.first)
		}
		if p.codec != media.H264 && p.codec != media.H265 {
			t.Fatalf("accepted codec %v", p.codec)
		}
		for _, s := range d.samples {
			if s.offset < 0 {
				t.Fatalf("negative sample offset %d", s.offset)
			}
		}
	})
}

func TestSplitLengthPrefixed(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		size    int
		want    int
		wantErr bool
	}{
		{"two nalus, 4-byte lengths", []byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41}, 4, 2, false},
		{"2-byte lengths", []byte{0, 1, 0x65, 0, 1, 0x41}, 2, 2, false},
		{"zero-length nalu skipped", []byte{0, 0, 0, 0, 0, 0, 0, 1, 0x41}, 4, 1, false},
		{"length past end", []byte{0, 0, 0, 9, 0x65}, 4, 0, true},
		{"truncated length", []byte{0, 0}, 4, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitLengthPrefixed(tc.in, tc.size)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != tc.want {
				t.Errorf("got %d NALUs, want %d", len(got), tc.want)
			}
		})
	}
}
