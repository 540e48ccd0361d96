package importer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// value is one value of the official chart's values file, with its path ("workers.celery.sets[1].queue")
// and the node it was written in. A value not written in the file has a nil node: every accessor
// answers "unset" for it, so a handler reads a missing subtree like an empty one.
type value struct {
	path string
	node *yaml.Node
}

func (v value) child(path string, n *yaml.Node) value {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return value{path: path, node: n}
}

// get is the value at the dotted keys below v.
func (v value) get(keys ...string) value {
	for _, k := range keys {
		p := k
		if v.path != "" {
			p = v.path + "." + k
		}
		var found *yaml.Node
		if v.node != nil && v.node.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(v.node.Content); i += 2 {
				if v.node.Content[i].Value == k {
					found = v.node.Content[i+1]
				}
			}
		}
		v = v.child(p, found)
	}
	return v
}

// set tells whether the value is written and not null (YAML ~ means "the chart's default").
func (v value) set() bool {
	return v.node != nil && !(v.node.Kind == yaml.ScalarNode && v.node.Tag == "!!null")
}

// line is where the value was written; 0 when it was not.
func (v value) line() int {
	if v.node == nil {
		return 0
	}
	return v.node.Line
}

func (v value) isMap() bool  { return v.set() && v.node.Kind == yaml.MappingNode }
func (v value) isList() bool { return v.set() && v.node.Kind == yaml.SequenceNode }

// str is a scalar's text ("" when unset); numbers and booleans give their text as written.
func (v value) str() string {
	if !v.set() || v.node.Kind != yaml.ScalarNode {
		return ""
	}
	return v.node.Value
}

// boolean is the value as a YAML boolean; ok is false when it is unset or not a boolean.
func (v value) boolean() (b, ok bool) {
	if !v.set() || v.node.Kind != yaml.ScalarNode {
		return false, false
	}
	b, err := strconv.ParseBool(v.node.Value)
	return b, err == nil
}

// on is a boolean switch with the chart's default when unset.
func (v value) on(def bool) bool {
	if b, ok := v.boolean(); ok {
		return b
	}
	return def
}

// integer is the value as a whole number; ok is false when it is unset or not one.
func (v value) integer() (int64, bool) {
	if !v.set() || v.node.Kind != yaml.ScalarNode {
		return 0, false
	}
	n, err := strconv.ParseInt(v.node.Value, 10, 64)
	return n, err == nil
}

// keys are a mapping's keys in the file's order.
func (v value) keys() []string {
	if !v.isMap() {
		return nil
	}
	var out []string
	for i := 0; i < len(v.node.Content); i += 2 {
		out = append(out, v.node.Content[i].Value)
	}
	return out
}

// items are a sequence's items.
func (v value) items() []value {
	if !v.isList() {
		return nil
	}
	out := make([]value, len(v.node.Content))
	for i, n := range v.node.Content {
		out[i] = v.child(fmt.Sprintf("%s[%d]", v.path, i), n)
	}
	return out
}

// decode reads the value into out through JSON, as Kubernetes types expect (resources, tolerations).
func (v value) decode(out any) error {
	var raw any
	if err := v.node.Decode(&raw); err != nil {
		return err
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// leaves are the paths and lines of every scalar, empty mapping or empty list below v: the values a
// user wrote, each of which the report accounts for.
func (v value) leaves() []value {
	if v.node == nil {
		return nil
	}
	switch {
	case v.isMap() && len(v.node.Content) > 0:
		var out []value
		for _, k := range v.keys() {
			out = append(out, v.get(k).leaves()...)
		}
		return out
	case v.isList() && len(v.node.Content) > 0:
		var out []value
		for _, item := range v.items() {
			out = append(out, item.leaves()...)
		}
		return out
	}
	return []value{v}
}

// templated tells whether a string holds Helm template code, which only the official chart can run.
func templated(s string) bool { return strings.Contains(s, "{{") }
