package zones

import "sync"

// maxCached bounds each cache: a camera has a handful of stream sizes and
// signage states, so hitting the bound means something is churning and
// rasterising again is the cheap, safe answer.
const maxCached = 32

// memo computes each key's mask once, even when many goroutines ask for it
// at the same moment, and keeps at most maxCached of them.
type memo[K comparable] struct {
	mu sync.Mutex
	m  map[K]*memoEntry
}

type memoEntry struct {
	once sync.Once
	mask *Mask
}

func (c *memo[K]) get(k K, build func() *Mask) *Mask {
	c.mu.Lock()
	e, ok := c.m[k]
	if !ok {
		if c.m == nil {
			c.m = make(map[K]*memoEntry)
		}
		if len(c.m) >= maxCached {
			for old := range c.m {
				delete(c.m, old) // any one: they are all cheap to rebuild
				break
			}
		}
		e = &memoEntry{}
		c.m[k] = e
	}
	c.mu.Unlock()
	// Building outside the lock lets other sizes proceed; once makes
	// concurrent callers for this size wait for the one build.
	e.once.Do(func() { e.mask = build() })
	return e.mask
}

type size struct{ w, h int }

// MaskCache rasterises a fixed set of polygons once per frame size. It is
// safe for concurrent use; the zero value caches the empty polygon set.
type MaskCache struct {
	polys []Polygon
	memo  memo[size]
}

// newMaskCache returns a cache for polys, which it copies.
func newMaskCache(polys []Polygon) *MaskCache {
	cp := make([]Polygon, len(polys))
	for i, p := range polys {
		cp[i] = append(Polygon(nil), p...)
	}
	return &MaskCache{polys: cp}
}

// Get returns the conservative mask of the cache's polygons on a w x h
// frame (see Rasterize). The mask is shared: do not modify it.
func (c *MaskCache) Get(w, h int) *Mask {
	return c.memo.get(size{w, h}, func() *Mask { return Rasterize(c.polys, w, h) })
}

// coverageSize is the grid Coverage rasterises on: fine enough that the
// conservative edge pixels add well under 1% for ordinary zones.
const coverageSize = 512

// Coverage returns the fraction (0..1) of the frame covered by the union of
// polys, rasterised conservatively at 512x512, so it errs towards more
// coverage. Config validation refuses a camera whose privacy zones cover
// almost all of its view.
func Coverage(polys []Polygon) float64 {
	m := Rasterize(polys, coverageSize, coverageSize)
	return float64(m.Count()) / (coverageSize * coverageSize)
}
