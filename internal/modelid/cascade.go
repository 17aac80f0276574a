package modelid

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
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
// The structure is what OpenCV evaluates, for both formats it reads:
//   - new (opencv-cascade-classifier, opencv_traincascade): the feature
//     type, the window size, each stage's weak classifiers and, per node of
//     each, its children and the feature it points to, written in place
//     (a feature no node uses is left out, as is the length of the list);
//   - old (opencv-haar-classifier, haartraining): the window size, each
//     stage's trees and, per node, its feature and children, and the
//     stages' parent and next links.
//
// A feature is only what OpenCV reads of it, by name: rects (the first
// three) and tilted for Haar, rect for LBP; other elements in it, and
// their order, are left out. Thresholds, leaf values, LBP category
// subsets and training parameters are left out too: they change whenever
// a cascade is edited or retrained in place. Numbers are written as
// OpenCV reads them, so "-1." and "-1.0" are the same rectangle weight.
//
// A file OpenCV could not run as a cascade, or one over maxElements, has
// no structure: an error.
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
//
// Features are written where a node uses them, not as the <features> list:
// OpenCV evaluates only the features the nodes point to, so an unused
// feature appended to the list must not make another model.
func newCascade(w *strings.Builder, c *xnode) error {
	ftype := c.text("featureType")
	if ftype != "HAAR" && ftype != "LBP" {
		// OpenCV 4 loads no other feature type (HOG cascades are refused).
		return fmt.Errorf("%w: feature type %q", errNotCascade, ftype)
	}
	fmt.Fprintf(w, "cascade new %s window %s %s\n", ftype, num(c.text("width")), num(c.text("height")))
	// As OpenCV reads a node: left, right, feature, then a threshold (one
	// value) or, for categorical features (LBP), a subset of
	// (maxCatCount+31)/32 values.
	step := 4
	if cats, _ := intOf(c.child("featureParams").text("maxCatCount")); cats > 0 {
		step = 3 + (cats+31)/32
	}
	features := c.child("features").items()
	stages, err := stagesOf(w, c)
	if err != nil {
		return err
	}
	for i, st := range stages {
		weak := st.child("weakClassifiers").items()
		fmt.Fprintf(w, "stage %d weak %d\n", i, len(weak))
		for _, wc := range weak {
			nodes := strings.Fields(wc.text("internalNodes"))
			if len(nodes) == 0 || len(nodes)%step != 0 {
				return fmt.Errorf("%w: stage %d: %d node values, not a multiple of %d", errNotCascade, i, len(nodes), step)
			}
			for j := 0; j < len(nodes); j += step {
				var v [3]int
				for k := range v {
					if v[k], err = intOf(nodes[j+k]); err != nil {
						return fmt.Errorf("%w: stage %d: node value %q", errNotCascade, i, nodes[j+k])
					}
				}
				if v[2] < 0 || v[2] >= len(features) {
					return fmt.Errorf("%w: stage %d: feature %d of %d", errNotCascade, i, v[2], len(features))
				}
				fmt.Fprintf(w, " node %d %d", v[0], v[1])
				if err := feature(w, features[v[2]], ftype == "LBP"); err != nil {
					return fmt.Errorf("stage %d: feature %d: %w", i, v[2], err)
				}
			}
			w.WriteByte('\n')
		}
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
				if err := feature(w, node.child("feature"), false); err != nil {
					return fmt.Errorf("stage %d: %w", i, err)
				}
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

// feature writes what OpenCV reads of a feature, by name, whatever else
// the element holds: for Haar, the first three rectangles of rects (x, y,
// width, height as integers, the weight as a float32) and whether it is
// tilted; for LBP, the four integers of rect.
func feature(w *strings.Builder, f *xnode, lbp bool) error {
	if f == nil {
		return fmt.Errorf("%w: node without a feature", errNotCascade)
	}
	if lbp {
		r := strings.Fields(f.text("rect"))
		if len(r) < 4 {
			return fmt.Errorf("%w: LBP rect %q", errNotCascade, f.text("rect"))
		}
		w.WriteString(" rect")
		return ints(w, r[:4])
	}
	rects := f.child("rects").items()
	rects = rects[:min(len(rects), 3)] // OpenCV's RECT_NUM
	w.WriteString(" rects")
	for _, r := range rects {
		v := strings.Fields(r.data)
		if len(v) < 5 {
			return fmt.Errorf("%w: rectangle %q", errNotCascade, r.data)
		}
		if err := ints(w, v[:4]); err != nil {
			return err
		}
		wt, err := strconv.ParseFloat(v[4], 32)
		if err != nil {
			return fmt.Errorf("%w: rectangle weight %q", errNotCascade, v[4])
		}
		fmt.Fprintf(w, " %s", strconv.FormatFloat(float64(float32(wt)), 'g', -1, 32))
	}
	// OpenCV reads tilted as (int)node != 0: absent, text or 0 are all
	// upright.
	t, _ := intOf(f.text("tilted"))
	fmt.Fprintf(w, " tilted %t", t != 0)
	return nil
}

func ints(w *strings.Builder, v []string) error {
	for _, s := range v {
		n, err := intOf(s)
		if err != nil {
			return fmt.Errorf("%w: integer %q", errNotCascade, s)
		}
		fmt.Fprintf(w, " %d", n)
	}
	return nil
}

// intOf reads a number as OpenCV reads an int: a real is rounded to the
// nearest (half to even, as cvRound).
func intOf(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %q is not an integer", errNotCascade, s)
	}
	return int(math.RoundToEven(f)), nil
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

// maxElements bounds the elements read: the largest cascade of opencv-data
// (haarcascade_frontalface_alt_tree.xml, 2.7 MB) has about 61,000, and a
// hostile file must not exhaust memory (each element costs about 100
// bytes here).
const maxElements = 1_000_000

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
	elements := 0
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
			if elements++; elements > maxElements {
				return nil, fmt.Errorf("%w: over %d elements", errNotCascade, maxElements)
			}
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
