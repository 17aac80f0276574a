package bench

import (
	"runtime"
	"testing"
)

// The soak's split of RSS into Go and native memory must see Go's own
// allocations: 64 MiB kept alive shows in both figures.
func TestGoMemSeesTheHeap(t *testing.T) {
	runtime.GC()
	held0, heap0 := goMemMB()
	if held0 <= 0 || heap0 <= 0 || heap0 > held0 {
		t.Fatalf("goMemMB() = %.1f held, %.1f heap: want 0 < heap <= held", held0, heap0)
	}
	keep := make([]byte, 64<<20)
	for i := range keep {
		keep[i] = byte(i)
	}
	held1, heap1 := goMemMB()
	if heap1-heap0 < 60 || held1-held0 < 60 {
		t.Errorf("after 64 MiB: heap %.1f -> %.1f, held %.1f -> %.1f MiB: want both up by about 64", heap0, heap1, held0, held1)
	}
	runtime.KeepAlive(keep)
	if rss := rssMB(); rss < held1*0.5 {
		t.Errorf("RSS %.1f MiB is under half of what Go holds (%.1f MiB)", rss, held1)
	}
}
