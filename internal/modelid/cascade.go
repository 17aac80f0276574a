package modelid

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// errNotCascade says a file is not an OpenCV cascade classifier.
var errNotCascade = errors.New("not an OpenCV cascade classifier")

// cascadeStructure returns the hex SHA-256 of an OpenCV cascade's structure:
// what a cascade is made of, not what it learned. A copy of a face cascade
// with a threshold or leaf value edited, stage parameters rewritten or
// comments added is still a face cascade, and has the same structure.
//
// The structure is, for both formats OpenCV reads:
//   - new (opencv-cascade-classifier, opencv_traincascade): the feature
//     type, the window size, each stage's weak classifiers and, per node of
//     each, its feature and children, and every feature's rectangles;
//   - old (opencv-haar-classifier, haartraining): the window size, each
//     stage's trees and, per node, its feature's rectangles and children,
//     and the stages' parent and next links.
//
// Thresholds, leaf values, LBP category subsets and training parameters
// are left out: they change whenever a cascade is edited or retrained in
// place. Numbers are written in one canonical form, so "-1." and "-1.0"
// are the same rectangle weight.
func cascadeStructure(b []byte) (string, error) {
	root, err := parseXML(b)
	if err != nil {
		return "", err
	}
	c := root.child("opencv_storage").first()
	if c == nil {
		return "", errNotCascade
	}
	var w strings.Builder
	switch {
	case c.child("stages") != nil && c.child("features") != nil:
		err = newCascade(&w, c)
	case c.child("size") != nil && c.child("stages") != nil:
		err = oldCascade(&w, c)
	default:
		err = errNotCascade
	}
	if err != nil {
		return "", err
	}
	s := sha256.Sum256([]byte(w.String()))
	return hex.EncodeToString(s[:]), nil
}

// newCascade writes the structure of an opencv_traincascade cascade.
func newCascade(w *strings.Builder, c *xnode) error {
	fmt.Fprintf(w, "cascade new %s window %s %s\n", c.text("featureType"), num(c.text("width")), num(c.text("height")))
	stages, err := stagesOf(w, c)
	if err != nil {
		return err
	}
	for i, st := range stages {
		weak := st.child("weakClassifiers").items()
		fmt.Fprintf(w, "stage %d weak %d\n", i, len(weak))
		for _, wc := range weak {
			nodes := strings.Fields(wc.text("internalNodes"))
			leaves := len(strings.Fields(wc.text("leafValues")))
			// A tree of n nodes has n+1 leaves; each node is left, right,
			// feature, then its threshold (Haar) or category subset (LBP).
			n := leaves - 1
			if n < 1 || len(nodes)%n != 0 || len(nodes)/n < 3 {
				return fmt.Errorf("%w: stage %d: %d node values for %d leaves", errNotCascade, i, len(nodes), leaves)
			}
			step := len(nodes) / n
			for j := 0; j < len(nodes); j += step {
				fmt.Fprintf(w, " node %s %s %s", num(nodes[j]), num(nodes[j+1]), num(nodes[j+2]))
			}
			w.WriteByte('\n')
		}
	}
	features := c.child("features").items()
	fmt.Fprintf(w, "features %d\n", len(features))
	for _, f := range features {
		leafValues(w, f)
		w.WriteByte('\n')
	}
	return nil
}

// stagesOf returns c's stages, having written their count; a cascade
// without one is not a cascade.
func stagesOf(w *strings.Builder, c *xnode) ([]*xnode, error) {
	stages := c.child("stages").items()
	if len(stages) == 0 {
		return nil, fmt.Errorf("%w: no stages", errNotCascade)
	}
	fmt.Fprintf(w, "stages %d\n", len(stages))
	return stages, nil
}

// oldCascade writes the structure of a haartraining cascade, whose
// features sit in the tree nodes.
func oldCascade(w *strings.Builder, c *xnode) error {
	fmt.Fprintf(w, "cascade old window %s\n", nums(c.text("size")))
	stages, err := stagesOf(w, c)
	if err != nil {
		return err
	}
	for i, st := range stages {
		trees := st.child("trees").items()
		fmt.Fprintf(w, "stage %d trees %d parent %s next %s\n", i, len(trees), num(st.text("parent")), num(st.text("next")))
		for _, tr := range trees {
			for _, node := range tr.items() {
				w.WriteString(" node")
				leafValues(w, node.child("feature"))
				for _, k := range []string{"left_node", "right_node"} {
					if v := node.child(k); v != nil {
						fmt.Fprintf(w, " %s %s", k, num(v.data))
					}
				}
				w.WriteByte('\n')
			}
		}
	}
	return nil
}

// leafValues writes every leaf element under n (a feature: its rectangles,
// tilted) as name and canonical numbers, in document order.
func leafValues(w *strings.Builder, n *xnode) {
	if n == nil {
		return
	}
	if len(n.kids) == 0 {
		fmt.Fprintf(w, " %s %s", n.name, nums(n.data))
		return
	}
	for _, k := range n.kids {
		leafValues(w, k)
	}
}

// num writes a number in one form ("-1." and "-1.0e+00" are "-1"); what
// is not a number stays as it is.
func num(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func nums(s string) string {
	f := strings.Fields(s)
	for i := range f {
		f[i] = num(f[i])
	}
	return strings.Join(f, " ")
}

// xnode is an XML element: its name, its own text, its child elements.
// Comments, attributes and processing instructions are dropped.
type xnode struct {
	name string
	data string
	kids []*xnode
}

func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

func (n *xnode) first() *xnode {
	if n == nil || len(n.kids) == 0 {
		return nil
	}
	return n.kids[0]
}

// items are n's list entries (<_> elements).
func (n *xnode) items() []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.name == "_" {
			out = append(out, k)
		}
	}
	return out
}

func (n *xnode) text(name string) string {
	if k := n.child(name); k != nil {
		return k.data
	}
	return ""
}

// maxDepth bounds element nesting: a cascade nests about 8 deep, and a
// hostile file must not exhaust the stack.
const maxDepth = 64

// parseXML reads b into a tree under an unnamed root.
func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	// As lenient as OpenCV's own reader, which ignores the declared
	// encoding: a file it runs must not escape the comparison by failing
	// here.
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	root := &xnode{}
	stack := []*xnode{root}
	var text strings.Builder
	for {
		// RawToken: no namespaces to resolve, and the stack below checks
		// that elements nest.
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotCascade, err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("%w: nested over %d deep", errNotCascade, maxDepth)
			}
			n := &xnode{name: t.Name.Local}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 1 || t.Name.Local != top.name {
				return nil, fmt.Errorf("%w: </%s> closes <%s>", errNotCascade, t.Name.Local, top.name)
			}
			top.data = strings.TrimSpace(text.String())
			text.Reset()
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 1 {
		return nil, fmt.Errorf("%w: unclosed elements", errNotCascade)
	}
	return root, nil
}
