package configs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Edits of the config file made by the operator console. Each one changes
// the file's YAML node tree, not a re-marshalled Config, so that comments,
// key order and the keys the edit does not touch stay as the operator wrote
// them. The result still has to pass Load: an edit only writes YAML.

// ErrNotFound marks an edit naming a camera or sign the file does not hold.
var ErrNotFound = errors.New("not found")

// SetZones replaces the zones of camera in the YAML document raw. A zone
// whose id was already there keeps its node, and so its comments.
func SetZones(raw []byte, camera string, zs []Zone) ([]byte, error) {
	return editDoc(raw, func(root *yaml.Node) error {
		cam := findByID(mapValue(root, "cameras"), camera)
		if cam == nil {
			return fmt.Errorf("camera %q: %w in cameras", camera, ErrNotFound)
		}
		old := mapValue(cam, "zones")
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, z := range zs {
			n := findByID(old, z.ID)
			if n == nil {
				n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			setScalar(n, "id", z.ID)
			setScalar(n, "kind", z.Kind)
			if z.Signage != "" {
				setScalar(n, "signage", z.Signage)
			} else {
				deleteKey(n, "signage")
			}
			setValue(n, "polygon", polygonNode(z.Polygon))
			seq.Content = append(seq.Content, n)
		}
		setValue(cam, "zones", seq)
		return nil
	})
}

// PutSign adds s to the signage register of raw, or replaces the sign with
// its id (keeping that sign's comments).
func PutSign(raw []byte, s Sign) ([]byte, error) {
	return editDoc(raw, func(root *yaml.Node) error {
		list := mapValue(root, "signage")
		if list == nil || list.Kind != yaml.SequenceNode {
			list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			setValue(root, "signage", list)
		}
		n := findByID(list, s.ID)
		if n == nil {
			n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			list.Content = append(list.Content, n)
		}
		setScalar(n, "id", s.ID)
		for _, f := range []struct{ key, val string }{
			{"text", s.Text}, {"location", s.Location}, {"purpose", s.Purpose}, {"purpose_detail", s.PurposeDetail}, {"operator", s.Operator},
		} {
			if f.val != "" {
				setScalar(n, f.key, f.val)
			} else {
				deleteKey(n, f.key)
			}
		}
		setScalar(n, "verified_at", timeText(s.VerifiedAt))
		setScalar(n, "expires_at", timeText(s.ExpiresAt))
		return nil
	})
}

// DeleteSign removes the sign with id from the register of raw.
func DeleteSign(raw []byte, id string) ([]byte, error) {
	return editDoc(raw, func(root *yaml.Node) error {
		list := mapValue(root, "signage")
		n := findByID(list, id)
		if n == nil {
			return fmt.Errorf("sign %q: %w in signage", id, ErrNotFound)
		}
		for i, c := range list.Content {
			if c == n {
				list.Content = append(list.Content[:i], list.Content[i+1:]...)
				break
			}
		}
		return nil
	})
}

func editDoc(raw []byte, edit func(root *yaml.Node) error) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config file is not YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("config file is not a YAML mapping of keys (see configs/example.yaml)")
	}
	if err := edit(doc.Content[0]); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("config edit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config edit: %w", err)
	}
	return b.Bytes(), nil
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setValue sets key in mapping m to v, keeping the key's node (and comments).
func setValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			old := m.Content[i+1]
			v.HeadComment, v.LineComment, v.FootComment = old.HeadComment, old.LineComment, old.FootComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func setScalar(m *yaml.Node, key, val string) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: val}
	setValue(m, key, n)
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// findByID returns the mapping in sequence seq whose id is id.
func findByID(seq *yaml.Node, id string) *yaml.Node {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	for _, n := range seq.Content {
		if v := mapValue(n, "id"); v != nil && v.Value == id {
			return n
		}
	}
	return nil
}

// polygonNode writes a polygon on one line, [[x, y], ...], as people write them.
func polygonNode(poly [][]float64) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, pt := range poly {
		p := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, x := range pt {
			p.Content = append(p.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatFloat(x, 'f', -1, 64)})
		}
		seq.Content = append(seq.Content, p)
	}
	return seq
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
