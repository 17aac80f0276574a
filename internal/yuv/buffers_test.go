package yuv

import (
	"testing"
	"unsafe"
)

// TestPicturesReuseMemory: a picture of the size of one just closed gets
// its memory (no fresh pages), one of another size does not, and the
// memory kept stays within maxFree however many sizes come and go.
func TestPicturesReuseMemory(t *testing.T) {
	addr := func(p Picture) uintptr {
		pl, err := p.Planes()
		if err != nil {
			t.Fatal(err)
		}
		return uintptr(unsafe.Pointer(&pl.Y[0]))
	}
	a, err := New(768, 576)
	if err != nil {
		t.Fatal(err)
	}
	first := addr(a)
	a.Close()
	b, err := New(768, 576)
	if err != nil {
		t.Fatal(err)
	}
	if addr(b) != first {
		t.Error("a picture of the same size did not reuse the memory of the one closed")
	}
	c, err := New(640, 480)
	if err != nil {
		t.Fatal(err)
	}
	if addr(c) == first {
		t.Error("a picture of another size got the same memory while the first is open")
	}
	b.Close()
	c.Close()
	// Sizes that come and go (2 MB pictures of 40 widths) never hold more
	// than maxFree, and the newest size is kept.
	for i := range 40 {
		p, err := New(1920+2*i, 720)
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
		if n := freeBytes(); n > maxFree {
			t.Fatalf("free list holds %d bytes after size %d, over %d", n, i, maxFree)
		}
	}
	free.Lock()
	kept := len(free.bySize[(1920+2*39)*(720*3/2+1)])
	free.Unlock()
	if kept != 1 {
		t.Errorf("the newest size has %d buffers kept, want 1", kept)
	}
}
