package groundtruth

import "math"

// assign pairs rows with columns so that as many pairs as possible are
// allowed and, among those pairings, the allowed pairs' costs add up to the
// least (the Hungarian method, O(k^3) for k = max(rows, columns)). cost[r][c]
// is the cost of pairing r with c, at least 0, or +Inf (or NaN) where they
// may not be paired. It returns, for each row, its column or -1.
//
// Closest-first pairing is not enough: in a crowd it gives an enter to the
// nearest entry and leaves a visit it was the only one within reach of
// unmatched (docs/accuracy.md).
func assign(cost [][]float64) []int {
	n := len(cost)
	m := 0
	for _, row := range cost {
		m = max(m, len(row))
	}
	k := max(n, m)
	if k == 0 {
		return nil
	}
	allowed := func(r, c int) bool {
		return r < n && c < len(cost[r]) && cost[r][c] >= 0 && cost[r][c] < math.Inf(1)
	}
	// big is more than all allowed costs together, so one more allowed
	// pair always costs less than any saving among the others.
	big := 1.0
	for r, row := range cost {
		for c := range row {
			if allowed(r, c) {
				big += 2 * row[c]
			}
		}
	}
	a := func(r, c int) float64 {
		if allowed(r, c) {
			return cost[r][c]
		}
		return big
	}
	// Potentials u (rows) and v (columns), 1-based with column 0 as the
	// free slot; p[c] is the row holding column c.
	u, v := make([]float64, k+1), make([]float64, k+1)
	p, way := make([]int, k+1), make([]int, k+1)
	for r := 1; r <= k; r++ {
		p[0] = r
		c0 := 0
		minv := make([]float64, k+1)
		used := make([]bool, k+1)
		for i := range minv {
			minv[i] = math.Inf(1)
		}
		for {
			used[c0] = true
			r0, delta, c1 := p[c0], math.Inf(1), 0
			for c := 1; c <= k; c++ {
				if used[c] {
					continue
				}
				if cur := a(r0-1, c-1) - u[r0] - v[c]; cur < minv[c] {
					minv[c], way[c] = cur, c0
				}
				if minv[c] < delta {
					delta, c1 = minv[c], c
				}
			}
			for c := 0; c <= k; c++ {
				if used[c] {
					u[p[c]] += delta
					v[c] -= delta
				} else {
					minv[c] -= delta
				}
			}
			c0 = c1
			if p[c0] == 0 {
				break
			}
		}
		for c0 != 0 {
			c1 := way[c0]
			p[c0] = p[c1]
			c0 = c1
		}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	for c := 1; c <= k; c++ {
		if r := p[c] - 1; allowed(r, c-1) {
			out[r] = c - 1
		}
	}
	return out
}
