package modelid

// Normalize is normalize, for the tests.
var Normalize = normalize

// CascadeStructure is cascadeStructure, for the tests.
var CascadeStructure = cascadeStructure

// MaxElements is maxElements, for the tests.
const MaxElements = maxElements

// Elements counts the elements parseXML reads of b.
func Elements(b []byte) (int, error) {
	root, err := parseXML(b)
	if err != nil {
		return 0, err
	}
	var count func(*xnode) int
	count = func(n *xnode) int {
		c := len(n.kids)
		for _, k := range n.kids {
			c += count(k)
		}
		return c
	}
	return count(root), nil
}
