package configs

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/edgeprivacy/edge/internal/redact"
)

// RedactYAML returns the config file raw as a generic document (for the
// operator console) with every credential hidden: password values become
// "***" and URLs lose their user:password and secret query values
// (redact.URL). Comments are dropped.
func RedactYAML(raw []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	redactNode(&doc, "")
	out := map[string]any{}
	if err := doc.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func redactNode(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			redactNode(c, key)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			redactNode(n.Content[i+1], n.Content[i].Value)
		}
	case yaml.ScalarNode:
		switch {
		case redact.IsSecretParam(key) && n.Value != "":
			n.Value, n.Tag, n.Style = redact.Mark, "!!str", 0
		case strings.Contains(n.Value, "://") || strings.Contains(n.Value, "@"):
			n.Value = redact.URL(n.Value)
		}
	case yaml.AliasNode:
		// An alias would expand to its anchor's value, which is redacted
		// where it stands; drop it rather than follow it.
		n.Kind, n.Value, n.Tag, n.Alias = yaml.ScalarNode, redact.Mark, "!!str", nil
	}
}
