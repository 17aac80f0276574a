package configs

// Nearest returns the name closest to got by edit distance, when it is close
// enough to be a typo (at most a third of its length, and at least 1
// edit); "" otherwise. Unknown keys and commands are suggested with it.
func Nearest(got string, names []string) string {
	best, bestD := "", len(got)/3+1
	for _, n := range names {
		if d := editDistance(got, n); d < bestD && d > 0 {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, with a transposition counted as
// one edit (optimal string alignment): "qso" is one edit from "qos".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
