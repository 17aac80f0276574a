package mediafile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/edgeprivacy/edge/internal/media"
	"github.com/edgeprivacy/edge/internal/mediafile"
	"github.com/edgeprivacy/edge/internal/mediafile/testclip"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSplitAnnexB(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"four byte start codes", []byte{0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3}, [][]byte{{0x67, 1, 2}, {0x68, 3}}},
		{"three byte start codes", []byte{0, 0, 1, 0x65, 9, 0, 0, 1, 0x41}, [][]byte{{0x65, 9}, {0x41}}},
		{"mixed with trailing zeros", []byte{0, 0, 1, 0x67, 0, 0, 0, 0, 1, 0x68}, [][]byte{{0x67}, {0x68}}},
		{"no start code", []byte{0x65, 1, 2}, [][]byte{{0x65, 1, 2}}},
		{"junk before start code", []byte{7, 0, 0, 1, 0x65}, [][]byte{{7}, {0x65}}},
		{"empty NALUs skipped", []byte{0, 0, 1, 0, 0, 1, 0x65}, [][]byte{{0x65}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mediafile.SplitAnnexB(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d NALUs %x, want %d %x", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("NALU %d = %x, want %x", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzSplitAnnexB(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		total := 0
		for _, n := range mediafile.SplitAnnexB(in) {
			if len(n) == 0 {
				t.Fatal("empty NALU")
			}
			if bytes.Contains(n, []byte{0, 0, 1}) {
				t.Fatalf("NALU %x contains a start code", n)
			}
			total += len(n)
		}
		if total > len(in) {
			t.Fatalf("NALUs hold %d bytes, input %d", total, len(in))
		}
	})
}

func TestReadFile(t *testing.T) {
	h264 := []string{"-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-g", "10"}
	tests := []struct {
		name  string
		ext   string
		args  []string
		codec media.Codec
	}{
		{"H.264 MP4", ".mp4", h264, media.H264},
		{"H.264 MPEG-TS", ".ts", h264, media.H264},
		{"H.264 MKV", ".mkv", h264, media.H264},
		{"H.265 MP4", ".mp4", []string{"-t", "2", "-c:v", "libx265", "-preset", "ultrafast", "-g", "10", "-x265-params", "log-level=error"}, media.H265},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.codec == media.H265 && !testclip.HasEncoder("libx265") {
				t.Skip("ffmpeg has no libx265 encoder; H.265 not tested")
			}
			path := testclip.Make(t, tt.ext, tt.args...)
			var aus []media.AccessUnit
			err := mediafile.ReadFile(context.Background(), path, func(au media.AccessUnit) error {
				aus = append(aus, au)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := testclip.CountPackets(t, path); len(aus) != want {
				t.Fatalf("got %d access units, ffprobe counts %d packets", len(aus), want)
			}
			keys := 0
			for i, au := range aus {
				if au.Codec != tt.codec {
					t.Fatalf("AU %d codec %v, want %v", i, au.Codec, tt.codec)
				}
				if au.Keyframe {
					keys++
					if !hasParamSets(au) {
						t.Errorf("keyframe AU %d lacks parameter sets: types %v", i, naluTypes(au))
					}
				}
			}
			if !aus[0].Keyframe {
				t.Error("first AU is not a keyframe")
			}
			if keys < 2 {
				t.Errorf("%d keyframes with -g 10, want several", keys)
			}
			if last := aus[len(aus)-1].PTS; last <= 0 {
				t.Errorf("last PTS %v, want > 0", last)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	testclip.Need(t)
	notVideo := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notVideo, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"missing file", "/nonexistent/clip.mp4", []string{"/nonexistent/clip.mp4"}},
		{"not a video", notVideo, []string{notVideo, "ffmpeg -i"}},
		{"MPEG-4 in AVI", testclip.Source, []string{testclip.Source, "msmpeg4", mediafile.ConvertHint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mediafile.ReadFile(context.Background(), tt.path, func(media.AccessUnit) error {
				t.Fatal("callback called")
				return nil
			})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadFileStops(t *testing.T) {
	path := testclip.Make(t, ".mp4", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10")
	stop := errors.New("stop")
	n := 0
	err := mediafile.ReadFile(context.Background(), path, func(media.AccessUnit) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("callback error: got %v after %d AUs, want %v after 3", err, n, stop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = mediafile.ReadFile(ctx, path, func(media.AccessUnit) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("cancel: got %v after %d AUs, want context.Canceled after 1", err, n)
	}
}

func naluTypes(au media.AccessUnit) []int {
	var ts []int
	for _, n := range au.NALUs {
		if au.Codec == media.H264 {
			ts = append(ts, int(n[0]&0x1f))
		} else {
			ts = append(ts, int(n[0]>>1&0x3f))
		}
	}
	return ts
}

func hasParamSets(au media.AccessUnit) bool {
	seen := map[int]bool{}
	for _, t := range naluTypes(au) {
		seen[t] = true
	}
	if au.Codec == media.H264 {
		return seen[7] && seen[8]
	}
	return seen[32] && seen[33] && seen[34]
}
