package latency_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/edgeprivacy/edge/internal/latency"
)

func TestQuantileWithinFivePercentAndNeverBelow(t *testing.T) {
	var h latency.Histogram
	r := rand.New(rand.NewPCG(1, 2))
	var ds []time.Duration
	for range 5000 {
		d := time.Duration(r.ExpFloat64() * float64(20*time.Millisecond))
		ds = append(ds, d)
		h.Observe(d)
	}
	slices.Sort(ds)
	s := h.Snapshot()
	if s.Count() != 5000 {
		t.Fatalf("count %d, want 5000", s.Count())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := ds[int(q*float64(len(ds)))-1]
		got := s.Quantile(q)
		if got < want || float64(got) > float64(want)*1.06+float64(10*time.Microsecond) {
			t.Errorf("p%.0f = %v, true %v (must be >= and within 5%%)", q*100, got, want)
		}
	}
}

func TestWindowIsTheDifferenceOfSnapshots(t *testing.T) {
	var h latency.Histogram
	for range 100 {
		h.Observe(time.Second) // before the window
	}
	before := h.Snapshot()
	for range 10 {
		h.Observe(time.Millisecond)
	}
	w := h.Snapshot().Sub(before)
	if w.Count() != 10 {
		t.Fatalf("window holds %d, want 10", w.Count())
	}
	if p := w.Quantile(0.99); p < time.Millisecond || p > 1100*time.Microsecond {
		t.Errorf("p99 of the window = %v, want about 1 ms (the seconds were before it)", p)
	}
	if (latency.Snapshot{}).Quantile(0.5) != 0 {
		t.Error("empty snapshot has a quantile")
	}
	if got := w.Add(w).Count(); got != 20 {
		t.Errorf("Add: %d, want 20", got)
	}
	// Extremes land in the first and last buckets instead of panicking.
	h.Observe(0)
	h.Observe(time.Hour)
	if h.Snapshot().Quantile(1) < time.Minute/2 {
		t.Error("an hour was lost")
	}
}
