package groundtruth

import (
	"container/heap"
	"math"
)

// pair is a row and a column that may be paired, and what it costs (at
// least 0).
type pair struct {
	r, c int
	cost float64
}

// assign pairs rows with columns, each at most once, using only the given
// pairs, so that as many pairs as possible are made and, among those
// pairings, their costs add up to the least: a min-cost max-flow by
// successive shortest paths (Dijkstra with potentials), O(F * P log N) for
// F pairs made over P allowed ones. It returns, for each row, its column
// or -1. Pairs whose cost is negative, +Inf or NaN are not allowed.
//
// Closest-first pairing is not enough: in a crowd it gives an enter to the
// nearest entry and leaves a visit it was the only one within reach of
// unmatched (docs/accuracy.md). The pairs are sparse (an enter is within
// reach of the few entries near it in time), so a long labelled clip with
// thousands of visits costs seconds, not a dense matrix of visits times
// enters.
func assign(rows, cols int, pairs []pair) []int {
	out := make([]int, rows)
	for i := range out {
		out[i] = -1
	}
	// Rows and columns that no chain of pairs links are paired apart: the
	// best pairing is the best of each part, and in a clip the parts are
	// the stretches of time between gaps of more than twice EntryWindow.
	parent := make([]int, rows+cols) // rows, then columns
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	var ok []pair
	for _, p := range pairs {
		if p.r < 0 || p.r >= rows || p.c < 0 || p.c >= cols || !(p.cost >= 0 && p.cost < math.Inf(1)) {
			continue
		}
		ok = append(ok, p)
		parent[find(p.r)] = find(rows + p.c)
	}
	type part struct {
		rows, cols []int
		pairs      []pair
	}
	parts := map[int]*part{}
	local := make([]int, rows+cols) // index within its part
	get := func(i int) *part {
		root := find(i)
		if parts[root] == nil {
			parts[root] = &part{}
		}
		return parts[root]
	}
	for _, p := range ok {
		pt := get(p.r)
		pt.pairs = append(pt.pairs, p)
	}
	for r := range rows {
		if pt := get(r); len(pt.pairs) > 0 {
			local[r] = len(pt.rows)
			pt.rows = append(pt.rows, r)
		}
	}
	for c := range cols {
		if pt := get(rows + c); len(pt.pairs) > 0 {
			local[rows+c] = len(pt.cols)
			pt.cols = append(pt.cols, c)
		}
	}
	for _, pt := range parts {
		lp := make([]pair, len(pt.pairs))
		for i, p := range pt.pairs {
			lp[i] = pair{local[p.r], local[rows+p.c], p.cost}
		}
		for lr, lc := range assignPart(len(pt.rows), len(pt.cols), lp) {
			if lc >= 0 {
				out[pt.rows[lr]] = pt.cols[lc]
			}
		}
	}
	return out
}

// assignPart is assign for rows and columns that chains of pairs link,
// with every pair allowed.
func assignPart(rows, cols int, pairs []pair) []int {
	out := make([]int, rows)
	for i := range out {
		out[i] = -1
	}
	// Nodes: 0 source, 1..rows, rows+1..rows+cols, rows+cols+1 sink.
	n := rows + cols + 2
	src, sink := 0, n-1
	g := &flowGraph{adj: make([][]int, n)}
	for r := range rows {
		g.add(src, 1+r, 0)
	}
	for c := range cols {
		g.add(1+rows+c, sink, 0)
	}
	first := len(g.edges)
	for _, p := range pairs {
		g.add(1+p.r, 1+rows+p.c, p.cost)
	}
	h := make([]float64, n) // potentials: every reduced cost stays >= 0
	dist := make([]float64, n)
	prev := make([]int, n) // edge into each node on the shortest path
	for {
		for i := range dist {
			dist[i], prev[i] = math.Inf(1), -1
		}
		dist[src] = 0
		q := &nodeHeap{{src, 0}}
		done := make([]bool, n)
		for q.Len() > 0 {
			it := heap.Pop(q).(nodeDist)
			if it.d > dist[it.v] || done[it.v] {
				continue
			}
			done[it.v] = true
			if it.v == sink {
				break // the rest cannot shorten the path found
			}
			for _, ei := range g.adj[it.v] {
				e := &g.edges[ei]
				if e.cap == 0 {
					continue
				}
				nd := it.d + max(e.cost+h[it.v]-h[e.to], 0)
				if nd < dist[e.to] {
					dist[e.to], prev[e.to] = nd, ei
					heap.Push(q, nodeDist{e.to, nd})
				}
			}
		}
		if math.IsInf(dist[sink], 1) {
			break
		}
		// Nodes settled before the sink move by their distance, the rest
		// by the sink's: every residual edge keeps a reduced cost >= 0.
		for v := range n {
			h[v] += min(dist[v], dist[sink])
		}
		for v := sink; v != src; {
			ei := prev[v]
			g.edges[ei].cap--
			g.edges[ei^1].cap++
			v = g.edges[ei^1].to
		}
	}
	for ei := first; ei < len(g.edges); ei += 2 {
		if e := g.edges[ei]; e.cap == 0 {
			out[g.edges[ei^1].to-1] = e.to - 1 - rows
		}
	}
	return out
}

// flowGraph is a residual graph of unit capacities; edge i^1 is edge i's
// reverse.
type flowGraph struct {
	edges []flowEdge
	adj   [][]int
}

type flowEdge struct {
	to   int
	cap  int
	cost float64
}

func (g *flowGraph) add(from, to int, cost float64) {
	g.adj[from] = append(g.adj[from], len(g.edges))
	g.edges = append(g.edges, flowEdge{to: to, cap: 1, cost: cost})
	g.adj[to] = append(g.adj[to], len(g.edges))
	g.edges = append(g.edges, flowEdge{to: from, cap: 0, cost: -cost})
}

type nodeDist struct {
	v int
	d float64
}

type nodeHeap []nodeDist

func (q nodeHeap) Len() int           { return len(q) }
func (q nodeHeap) Less(i, j int) bool { return q[i].d < q[j].d }
func (q nodeHeap) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *nodeHeap) Push(x any)        { *q = append(*q, x.(nodeDist)) }
func (q *nodeHeap) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
