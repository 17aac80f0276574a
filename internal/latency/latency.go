// Package latency counts durations into fixed logarithmic buckets, so that
// a camera can record the latency of every frame at no cost to the frame path
// and a reader can take percentiles over any window (the difference of two
// snapshots) without keeping samples.
package latency

import (
	"math"
	"sync/atomic"
	"time"
)

// Buckets grow by 5%, from 10 µs to about a minute: a percentile read back
// is within 5% of the true value, which is finer than any figure we report.
const (
	growth  = 1.05
	minimum = 10 * time.Microsecond
	buckets = 320 // 10 µs * 1.05^320 ≈ 60 s; longer goes in the last bucket
)

var logGrowth = math.Log(growth)

// Histogram counts durations. The zero value is ready; it is safe for
// concurrent use and never allocates after creation.
type Histogram struct {
	counts [buckets]atomic.Uint64
}

// Observe counts d.
func (h *Histogram) Observe(d time.Duration) {
	h.counts[bucket(d)].Add(1)
}

func bucket(d time.Duration) int {
	if d <= minimum {
		return 0
	}
	i := int(math.Log(float64(d)/float64(minimum))/logGrowth) + 1
	return min(i, buckets-1)
}

// upper is the largest duration bucket i holds.
func upper(i int) time.Duration {
	return time.Duration(float64(minimum) * math.Pow(growth, float64(i)))
}

// Snapshot is a histogram's counts at one moment.
type Snapshot [buckets]uint64

// Snapshot copies the current counts.
func (h *Histogram) Snapshot() Snapshot {
	var s Snapshot
	for i := range h.counts {
		s[i] = h.counts[i].Load()
	}
	return s
}

// Sub is what was counted after earlier: s minus earlier, bucket by bucket.
func (s Snapshot) Sub(earlier Snapshot) Snapshot {
	var d Snapshot
	for i := range s {
		if s[i] > earlier[i] {
			d[i] = s[i] - earlier[i]
		}
	}
	return d
}

// Add is the counts of s and o together.
func (s Snapshot) Add(o Snapshot) Snapshot {
	for i := range s {
		s[i] += o[i]
	}
	return s
}

// Count is how many durations s holds.
func (s Snapshot) Count() uint64 {
	var n uint64
	for _, c := range s {
		n += c
	}
	return n
}

// Quantile is the duration below which a fraction q (0..1) of s lies,
// rounded up to its bucket's upper bound (never an underestimate, by at most
// 5%); 0 when s is empty.
func (s Snapshot) Quantile(q float64) time.Duration {
	n := s.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range s {
		seen += c
		if seen >= rank {
			return upper(i)
		}
	}
	return upper(buckets - 1)
}
