package yuv

/*
#include <stdlib.h>
*/
import "C"

import (
	"sync"
	"unsafe"
)

// Pictures of a camera's size come and go at its frame rate, and each is a
// large allocation (660 KB at 768x576, 1.4 MB at 720p): malloc hands such
// blocks back to the kernel and maps fresh, zeroed pages for the next one,
// and at 36 cameras those page faults were a twentieth of the box's CPU.
// So the memory of freed pictures is kept on a free list, by size, up to
// maxFree bytes in all, and handed to the next picture of that size.
//
// Reuse is what malloc does too: a picture's bytes are undefined until
// written (New), and a Picture is closed exactly once (Close), after which
// nothing reads it. The Mats that point into a buffer are closed before
// it goes back on the list, so the gocv Mat profile still counts every
// picture that is not closed.

// maxFree bounds the memory kept for reuse: a few pictures per camera of a
// busy box, and no more than an RSS budget can spare.
const maxFree = 32 << 20

// buffer is C memory (so that OpenCV may keep pointing at it) of n bytes.
type buffer struct {
	p unsafe.Pointer
	n int
}

func (b *buffer) bytes() []byte { return unsafe.Slice((*byte)(b.p), b.n) }

var free struct {
	sync.Mutex
	bySize map[int][]*buffer
	bytes  int
}

// getBuffer returns n bytes of undefined content.
func getBuffer(n int) *buffer {
	free.Lock()
	if l := free.bySize[n]; len(l) > 0 {
		b := l[len(l)-1]
		free.bySize[n] = l[:len(l)-1]
		free.bytes -= n
		free.Unlock()
		return b
	}
	free.Unlock()
	p := C.malloc(C.size_t(n))
	if p == nil {
		panic("yuv: out of memory for a picture")
	}
	return &buffer{p: p, n: n}
}

// putBuffer keeps b for reuse. When the list is full it makes room by
// freeing buffers of other sizes (a camera that changed resolution), or
// frees b when its own size fills the list.
func putBuffer(b *buffer) {
	var drop []*buffer
	free.Lock()
	for size, l := range free.bySize {
		if free.bytes+b.n <= maxFree {
			break
		}
		if size != b.n {
			drop = append(drop, l...)
			free.bytes -= size * len(l)
			delete(free.bySize, size)
		}
	}
	if free.bytes+b.n > maxFree {
		drop = append(drop, b)
	} else {
		if free.bySize == nil {
			free.bySize = map[int][]*buffer{}
		}
		free.bySize[b.n] = append(free.bySize[b.n], b)
		free.bytes += b.n
	}
	free.Unlock()
	for _, d := range drop {
		C.free(d.p)
	}
}

// freeBytes is how much memory the free list holds, for tests.
func freeBytes() int {
	free.Lock()
	defer free.Unlock()
	return free.bytes
}
