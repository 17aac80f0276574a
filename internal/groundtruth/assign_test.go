package groundtruth

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAssignIsBest checks assign against every pairing of small random
// problems: no pairing has more allowed pairs, and none with as many costs
// less.
func TestAssignIsBest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 5000 {
		n, m := rng.IntN(6), rng.IntN(6)
		cost := make([][]float64, n)
		for r := range cost {
			cost[r] = make([]float64, m)
			for c := range cost[r] {
				switch rng.IntN(4) {
				case 0:
					cost[r][c] = math.Inf(1)
				case 1:
					cost[r][c] = math.NaN() // not allowed either
				default:
					cost[r][c] = float64(rng.IntN(16)) / 10
				}
			}
		}
		var pairs []pair
		for r, row := range cost {
			for c, v := range row {
				pairs = append(pairs, pair{r, c, v}) // not allowed ones too: assign must skip them
			}
		}
		got := assign(n, m, pairs)
		if len(got) != n {
			t.Fatalf("trial %d: %d rows out of %d", trial, len(got), n)
		}
		gotN, gotC, seen := 0, 0.0, map[int]bool{}
		for r, c := range got {
			if c < 0 {
				continue
			}
			if seen[c] || !(cost[r][c] < math.Inf(1)) {
				t.Fatalf("trial %d: column %d used twice or not allowed: %v", trial, c, got)
			}
			seen[c] = true
			gotN++
			gotC += cost[r][c]
		}
		bestN, bestC := best(cost, 0, map[int]bool{})
		if gotN != bestN || math.Abs(gotC-bestC) > 1e-9 {
			t.Fatalf("trial %d: %v gives %d pairs costing %v, best is %d costing %v (%v)", trial, got, gotN, gotC, bestN, bestC, cost)
		}
	}
}

// best is the most allowed pairs, then the least cost, by trying all.
func best(cost [][]float64, r int, used map[int]bool) (int, float64) {
	if r == len(cost) {
		return 0, 0
	}
	bn, bc := best(cost, r+1, used) // row r unpaired
	for c, v := range cost[r] {
		if used[c] || !(v < math.Inf(1)) {
			continue
		}
		used[c] = true
		n, cs := best(cost, r+1, used)
		used[c] = false
		if n+1 > bn || (n+1 == bn && cs+v < bc) {
			bn, bc = n+1, cs+v
		}
	}
	return bn, bc
}

// TestAssignLongClip: 2,000 visits a second apart, each counted 0.4 s
// after its entry, so every enter is also within reach of the visits a
// second either side: one chain of overlapping windows over half an hour.
// Every visit gets its own enter (the least squared times apart).
func TestAssignLongClip(t *testing.T) {
	const n = 2000
	var pairs []pair
	for v := range n {
		for _, e := range []int{v - 1, v, v + 1} {
			if e >= 0 && e < n {
				dt := float64(e) + 0.4 - float64(v)
				pairs = append(pairs, pair{v, e, dt * dt})
			}
		}
	}
	got := assign(n, n, pairs)
	for v, c := range got {
		if c != v {
			t.Fatalf("visit %d paired with enter %d, want its own", v, c)
		}
	}
}

// TestAssignIsBestLarger: the same check on sparser problems of up to 10
// rows and columns, where paths run through several pairs, against a
// dynamic programme over the columns used.
func TestAssignIsBestLarger(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 1000 {
		n, m := 1+rng.IntN(10), 1+rng.IntN(10)
		var pairs []pair
		allowed := make([][]float64, n)
		for r := range n {
			allowed[r] = make([]float64, m)
			for c := range m {
				allowed[r][c] = math.Inf(1)
				if rng.IntN(3) == 0 {
					v := float64(rng.IntN(100)) / 10
					allowed[r][c] = v
					pairs = append(pairs, pair{r, c, v})
				}
			}
		}
		got := assign(n, m, pairs)
		gotN, gotC := 0, 0.0
		for r, c := range got {
			if c >= 0 {
				gotN++
				gotC += allowed[r][c]
			}
		}
		// best[mask]: most pairs and least cost over the rows so far,
		// with the columns in mask used.
		type score struct {
			n  int
			c  float64
			ok bool
		}
		better := func(a, b score) bool { return !b.ok || a.n > b.n || (a.n == b.n && a.c < b.c-1e-9) }
		cur := make([]score, 1<<m)
		cur[0] = score{ok: true}
		for r := range n {
			next := make([]score, 1<<m)
			for mask, s := range cur {
				if !s.ok {
					continue
				}
				if better(s, next[mask]) {
					next[mask] = s
				}
				for c := range m {
					if mask&(1<<c) != 0 || math.IsInf(allowed[r][c], 1) {
						continue
					}
					cand := score{s.n + 1, s.c + allowed[r][c], true}
					if better(cand, next[mask|1<<c]) {
						next[mask|1<<c] = cand
					}
				}
			}
			cur = next
		}
		best := score{}
		for _, s := range cur {
			if s.ok && better(s, best) {
				best = s
			}
		}
		if gotN != best.n || math.Abs(gotC-best.c) > 1e-6 {
			t.Fatalf("trial %d (%dx%d): %d pairs costing %v, best is %d costing %v", trial, n, m, gotN, gotC, best.n, best.c)
		}
	}
}
