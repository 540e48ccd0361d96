package load

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/diag"
)

// mergeNode applies the overlay tree over onto base, in place. Mappings merge key by
// key and a null value deletes the key; lists whose items all have a name merge item by
// item, an item with `$patch: delete` removing its namesake; any other value replaces.
func mergeNode(base, over *yaml.Node, path string, files map[*yaml.Node]string) diag.List {
	var problems diag.List
	switch {
	case base.Kind == yaml.MappingNode && over.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(over.Content); i += 2 {
			k, v := over.Content[i], over.Content[i+1]
			if k.Value == patchKey {
				continue
			}
			j := keyIndex(base, k.Value)
			switch {
			case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
				if j >= 0 {
					base.Content = append(base.Content[:j], base.Content[j+2:]...)
				}
			case j < 0:
				base.Content = append(base.Content, k, adopt(v, join(path, k.Value), files, &problems))
			case isCollection(base.Content[j+1]) && base.Content[j+1].Kind == v.Kind:
				problems = append(problems, mergeNode(base.Content[j+1], v, join(path, k.Value), files)...)
			default:
				base.Content[j+1] = adopt(v, join(path, k.Value), files, &problems)
			}
		}
	case base.Kind == yaml.SequenceNode && over.Kind == yaml.SequenceNode && named(base) && named(over):
		for _, item := range over.Content {
			name := value(item, "name")
			j := -1
			for i, b := range base.Content {
				if value(b, "name") == name {
					j = i
				}
			}
			switch patch := value(item, patchKey); {
			case patch != "" && patch != "delete":
				problems = append(problems, diag.Problem{Location: diag.Location{File: files[item], Line: item.Line},
					Path: fmt.Sprintf("%s[name=%s].$patch", path, name), Message: fmt.Sprintf("%q is not a patch; the only one is delete", patch)})
			case patch == "delete" && j < 0:
				problems = append(problems, diag.Problem{Location: diag.Location{File: files[item], Line: item.Line},
					Path: fmt.Sprintf("%s[name=%s]", path, name), Message: fmt.Sprintf("deletes %q, which is not in the spec", name)})
			case patch == "delete":
				base.Content = append(base.Content[:j], base.Content[j+1:]...)
			case j < 0:
				base.Content = append(base.Content, item)
			default:
				problems = append(problems, mergeNode(base.Content[j], item, fmt.Sprintf("%s[%d]", path, j), files)...)
			}
		}
	default:
		*base = *over
		files[base] = files[over]
	}
	return problems
}

// adopt returns an overlay value that has nothing to merge with in the base. A named
// list still goes through the merge (onto an empty list), so its `$patch: delete` items
// are reported as deleting what is not there instead of being kept as groups.
func adopt(v *yaml.Node, path string, files map[*yaml.Node]string, problems *diag.List) *yaml.Node {
	if v.Kind != yaml.SequenceNode || !named(v) {
		return v
	}
	empty := &yaml.Node{Kind: yaml.SequenceNode, Tag: v.Tag, Style: v.Style, Line: v.Line, Column: v.Column}
	files[empty] = files[v]
	*problems = append(*problems, mergeNode(empty, v, path, files)...)
	return empty
}

func isCollection(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode
}

// named tells whether every item of a list is a mapping with a name.
func named(seq *yaml.Node) bool {
	for _, item := range seq.Content {
		if value(item, "name") == "" {
			return false
		}
	}
	return true
}

func keyIndex(m *yaml.Node, key string) int {
	if m.Kind != yaml.MappingNode {
		return -1
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// value returns a mapping's scalar value for key, or "".
func value(m *yaml.Node, key string) string {
	if j := keyIndex(m, key); j >= 0 && m.Content[j+1].Kind == yaml.ScalarNode {
		return m.Content[j+1].Value
	}
	return ""
}
