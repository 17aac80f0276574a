package configs

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problems are located in the YAML source after the fact: loading parses
// into untyped maps (viper), which keep no positions, so on a failure the
// file is parsed once more into yaml.Node and each problem's key path is
// walked there. A load that succeeds pays nothing.

// position is a 1-based line and column in the YAML source; zero when
// unknown.
type position struct{ line, col int }

func (p position) String() string {
	if p.line == 0 {
		return ""
	}
	return fmt.Sprintf("line %d, column %d: ", p.line, p.col)
}

// sourceTree parses src into its root mapping node; nil when it cannot.
func sourceTree(src []byte) *yaml.Node {
	if len(src) == 0 {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// pathPart is one step of a key path: a key, then list selectors, as in
// cameras[lobby] or polygon[2][1].
var pathPart = regexp.MustCompile(`^([^\[\]]*)((?:\[[^\[\]]*\])*)$`)

// locate finds the node at path under root: keys separated by '.', list
// elements selected by [id] (the element's id), [#n] or, when byIndex or no
// element has that id, [n] (0-based). It returns the deepest node it
// reached and whether it reached the end.
func locate(root *yaml.Node, path string, byIndex bool) (*yaml.Node, bool) {
	n := root
	if n == nil {
		return nil, false
	}
	if path == "" {
		return n, true
	}
	for _, part := range strings.Split(path, ".") {
		m := pathPart.FindStringSubmatch(part)
		if m == nil {
			return n, false
		}
		if m[1] != "" {
			v := keyValue(n, m[1])
			if v == nil {
				return n, false
			}
			n = v
		}
		for _, sel := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(m[2], "["), "]"), "][") {
			if m[2] == "" {
				break
			}
			e := listElem(n, sel, byIndex)
			if e == nil {
				return n, false
			}
			n = e
		}
	}
	return n, true
}

// keyValue is the value of key in mapping n (keys compared as viper does,
// without case), or nil.
func keyValue(n *yaml.Node, key string) *yaml.Node {
	if k := mapKey(n, key); k != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i] == k {
				return n.Content[i+1]
			}
		}
	}
	return nil
}

// mapKey is the key node named key in mapping n, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, key) {
			return n.Content[i]
		}
	}
	return nil
}

func listElem(n *yaml.Node, sel string, byIndex bool) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	index := func(s string) *yaml.Node {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if rest, ok := strings.CutPrefix(sel, "#"); ok {
		return index(rest)
	}
	if byIndex {
		if e := index(sel); e != nil {
			return e
		}
	}
	for _, e := range n.Content {
		if id := keyValue(e, "id"); id != nil && id.Kind == yaml.ScalarNode && id.Value == sel {
			return e
		}
	}
	return index(sel)
}

// locateProblems gives each validation problem the position of its key,
// and of the point for a polygon problem that names one.
func locateProblems(src []byte, ve *ValidationError) {
	root := sourceTree(src)
	if root == nil {
		return
	}
	for i := range ve.Problems {
		p := &ve.Problems[i]
		n, _ := locate(root, p.Path, false)
		if n == nil {
			continue
		}
		if p.Point > 0 && n.Kind == yaml.SequenceNode && p.Point <= len(n.Content) {
			n = n.Content[p.Point-1]
		}
		p.Line, p.Column = n.Line, n.Column
	}
}

// yamlLine is how yaml.v3 words a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError is YAML that does not parse, at the line that breaks it.
type SyntaxError struct {
	// Line and Column locate the first line that cannot be parsed (1-based),
	// at its first character.
	Line, Column int
	// Block is the line yaml.v3 names: the start of the block the error
	// breaks, often far above the line at fault.
	Block int
	// Msg is yaml.v3's description.
	Msg string
	err error
}

func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("line %d, column %d: YAML syntax: %s", e.Line, e.Column, e.Msg)
	if e.Block != e.Line {
		s += fmt.Sprintf(" (in the block from line %d; check this line's indentation against the lines above)", e.Block)
	}
	return s
}

// Unwrap returns yaml.v3's error.
func (e *SyntaxError) Unwrap() error { return e.err }

// locateSyntax finds the line that breaks the parse: yaml.v3 reports where
// the enclosing block starts (its context mark), not the offending token.
// The first n lines of a file parse for every n below the line at fault and
// fail from it on, so a binary search over prefixes finds it. (A prefix that
// ends inside a multi-line flow list fails too; such an error is reported
// at the list's start, no worse than yaml.v3.)
func locateSyntax(src []byte, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	block, _ := strconv.Atoi(m[1])
	lines := bytes.SplitAfter(src, []byte("\n"))
	parses := func(k int) bool {
		var n yaml.Node
		return yaml.Unmarshal(bytes.Join(lines[:k], nil), &n) == nil
	}
	lo, hi := max(block-1, 0), len(lines)
	if !parses(lo) || parses(hi) {
		return err
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if parses(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	line := lines[hi-1]
	col := 1 + len(line) - len(bytes.TrimLeft(line, " \t"))
	return &SyntaxError{Line: hi, Column: col, Block: block, Msg: m[2], err: err}
}

// isSyntax reports whether err is a YAML syntax error (not a type error).
func isSyntax(err error) bool {
	var te *yaml.TypeError
	return err != nil && !errors.As(err, &te) && yamlLine.MatchString(err.Error())
}
