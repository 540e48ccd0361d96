package importer

import (
	"fmt"
	"reflect"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/load"
)

// Env is one environment's values file (values-production.yaml over values.yaml, as a team passes
// `helm -f values.yaml -f values-production.yaml`). Imported over the base files, it becomes an
// overlay that holds only what it changes in the base spec: overlays/<Name>/overlay.yaml.
type Env struct {
	Name  string
	Input Input
}

// Overlay is one environment's overlay and the report lines of its values file.
type Overlay struct {
	Name string
	// Spec is the overlay file's text.
	Spec   []byte
	Report []Line
}

var envName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ImportEnvs imports the base files as Import does, then each environment's file over them, and
// writes each environment's difference from the base spec as an overlay. Every overlay is proven
// before it is returned: the base spec with the overlay, loaded as `airkube render --overlay` loads
// them, is the release imported from the base files and the environment's together.
func ImportEnvs(base []Input, envs []Env, opt Options) (*Result, []Overlay, error) {
	res, err := Import(base, opt)
	if err != nil {
		return nil, nil, err
	}
	var out []Overlay
	seen := map[string]bool{}
	for _, e := range envs {
		if !envName.MatchString(e.Name) || seen[e.Name] {
			why := "is not a folder name of lowercase letters, digits and '-'"
			if seen[e.Name] {
				why = "is given twice"
			}
			return nil, nil, diag.List{{Location: diag.Location{File: e.Input.Name}, Message: fmt.Sprintf("environment %q %s", e.Name, why)}}
		}
		seen[e.Name] = true
		full, err := Import(append(append([]Input(nil), base...), e.Input), opt)
		if err != nil {
			return nil, nil, err
		}
		text, err := overlayYAML(res.Release, full.Release, e.Input.Name)
		if err != nil {
			return nil, nil, err
		}
		if err := sameRelease(res.Spec, text, full.Spec); err != nil {
			return nil, nil, diag.List{{Location: diag.Location{File: e.Input.Name},
				Message: fmt.Sprintf("what this file changes cannot be written as an overlay of the base spec (%v); import it with -f instead", err)}}
		}
		o := Overlay{Name: e.Name, Spec: text}
		for _, l := range full.Report {
			if l.File == e.Input.Name {
				o.Report = append(o.Report, l)
			}
		}
		out = append(out, o)
	}
	return res, out, nil
}

// overlayYAML is the overlay that turns base into full, in the order of full's fields.
func overlayYAML(base, full *v1alpha1.AirflowRelease, from string) ([]byte, error) {
	b, err := orderedNode(base)
	if err != nil {
		return nil, err
	}
	f, err := orderedNode(full)
	if err != nil {
		return nil, err
	}
	d, _ := diffNode(b, f)
	if d == nil {
		d = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	d.HeadComment = "Imported by `airkube import` from " + from + ": what it changes in the base spec.\n" +
		"Apply it with --overlay; the report says what was carried and what was not."
	return encodeNode(d)
}

// diffNode is the overlay node that turns a into b, and whether there is any difference. It writes
// what airkube's overlay merge reads: mappings key by key (a removed key is null), lists of named
// items item by item (a removed item is {name, $patch: delete}), anything else whole.
func diffNode(a, b *yaml.Node) (*yaml.Node, bool) {
	switch {
	case a.Kind == yaml.MappingNode && b.Kind == yaml.MappingNode:
		out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i := 0; i+1 < len(b.Content); i += 2 {
			k, v := b.Content[i], b.Content[i+1]
			old := mapValue(a, k.Value)
			if old == nil {
				out.Content = append(out.Content, k, v)
				continue
			}
			if d, changed := diffNode(old, v); changed {
				out.Content = append(out.Content, k, d)
			}
		}
		for i := 0; i+1 < len(a.Content); i += 2 {
			if mapValue(b, a.Content[i].Value) == nil {
				out.Content = append(out.Content, a.Content[i], &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
			}
		}
		return out, len(out.Content) > 0
	case a.Kind == yaml.SequenceNode && b.Kind == yaml.SequenceNode && namedItems(a) && namedItems(b):
		out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, item := range b.Content {
			name := mapValue(item, "name")
			old := namedItem(a, name.Value)
			if old == nil {
				out.Content = append(out.Content, item)
				continue
			}
			if d, changed := diffNode(old, item); changed {
				d.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"}, name}, d.Content...)
				out.Content = append(out.Content, d)
			}
		}
		for _, item := range a.Content {
			name := mapValue(item, "name")
			if namedItem(b, name.Value) == nil {
				out.Content = append(out.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: "name"}, name,
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: "$patch"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: "delete"}}})
			}
		}
		return out, len(out.Content) > 0
	}
	if sameNode(a, b) {
		return nil, false
	}
	return b, true
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// namedItems is true for a list whose items are all mappings with a name, as taskGroups.
func namedItems(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.MappingNode || mapValue(c, "name") == nil {
			return false
		}
	}
	return len(n.Content) > 0
}

func namedItem(list *yaml.Node, name string) *yaml.Node {
	for _, c := range list.Content {
		if mapValue(c, "name").Value == name {
			return c
		}
	}
	return nil
}

func sameNode(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.Value != b.Value || a.Tag != b.Tag || len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// sameRelease checks that spec with overlay loads to the release full loads to.
func sameRelease(spec, overlay, full []byte) error {
	got, err := load.Load(load.Input{Name: "spec.yaml", Data: spec}, load.Input{Name: "overlay.yaml", Data: overlay})
	if err != nil {
		return err
	}
	want, err := load.Load(load.Input{Name: "full.yaml", Data: full})
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(got.Release, want.Release) {
		return fmt.Errorf("the base spec with the overlay is not the imported release")
	}
	return nil
}
