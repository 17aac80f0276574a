package encode_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/encode"
)

// guarded returns n bytes that end exactly where an unmapped (PROT_NONE)
// page begins, so that reading one byte past them faults.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	page := os.Getpagesize()
	size := (n/page + 2) * page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return mem[size-page-n : size-page : size-page]
}

// TestNoReadPastThePicture encodes pictures that end at an unmapped page:
// every small size, scaled and not, and camera sizes scaled down. swscale
// reads 8 bytes past the last pixel when it scales (and for 2-pixel-wide
// pictures), which killed this test with SIGSEGV in edge_enc_send before the
// encoder learnt to copy such a picture first.
func TestNoReadPastThePicture(t *testing.T) {
	type size struct{ w, h, outW, stride int }
	var sizes []size
	for w := 2; w <= 64; w += 2 {
		for _, h := range []int{2, 6, 18, 34} {
			sizes = append(sizes, size{w, h, 0, 3 * w}, size{w, h, w / 2, 3 * w})
		}
	}
	sizes = append(sizes, size{640, 480, 320, 3 * 640}, size{1280, 720, 384, 3 * 1280}, size{320, 240, 160, 3*320 + 4}, size{2, 720, 0, 6})
	for _, s := range sizes {
		enc, err := encode.New(encode.Config{Width: s.w, Height: s.h, OutWidth: s.outW, FPS: 10, BitrateKbps: 500})
		if err != nil {
			t.Fatalf("%dx%d: %v", s.w, s.h, err)
		}
		buf := guarded(t, s.stride*(s.h-1)+3*s.w)
		for i := range buf {
			buf[i] = byte(i)
		}
		for i := range 2 {
			if _, err := enc.Encode(buf, s.stride, time.Duration(i)*100*time.Millisecond); err != nil {
				t.Errorf("%dx%d -> %d wide: %v", s.w, s.h, s.outW, err)
			}
		}
		enc.Close()
	}
	t.Logf("%d sizes encoded from pictures ending at an unmapped page", len(sizes))
}
