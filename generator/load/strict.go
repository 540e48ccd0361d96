package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
)

var (
	typeOfRelease   = reflect.TypeOf(v1alpha1.AirflowRelease{})
	unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

// patchKey is the overlay instruction on a list item; only overlays may use it.
const patchKey = "$patch"

// converter walks a YAML tree along a Go type, reporting every field the type does not
// have and every value of the wrong kind, and builds the JSON-ready value the typed
// decode reads. Strings keep the text as written ("3.10" stays "3.10").
type converter struct {
	files    map[*yaml.Node]string
	overlay  bool
	problems diag.List
	values   int
	// bad are the nodes each problem is about: prune drops them, so the rest can still be validated.
	bad map[*yaml.Node]bool
	// fatal is set when the walk stopped early: the tree is not usable.
	fatal bool
}

// maxValues bounds how many values one walk reads. An alias repeats its anchor's whole
// subtree, so aliases of aliases let a few hundred bytes stand for billions of values
// ("billion laughs"); yaml.v3 guards its own decoding, not this walk over its nodes.
// No real spec comes near the bound.
const maxValues = 100000

// checkType reports every field of n that t cannot hold, then drops those fields (and list items)
// from n, so the rest of the document can still be decoded and validated: one run shows the
// load and the validation problems together. usable is false when the walk stopped early.
func checkType(n *yaml.Node, t reflect.Type, path, file string, overlay bool) (problems diag.List, usable bool) {
	c := &converter{files: map[*yaml.Node]string{}, overlay: overlay, bad: map[*yaml.Node]bool{}}
	mark(n, file, c.files)
	c.convert(n, t, path)
	if c.bad[n] || c.fatal {
		return c.problems, false
	}
	prune(n, c.bad)
	return c.problems, true
}

// prune removes from a tree the mapping entries whose key or value is bad, and the bad list items.
func prune(n *yaml.Node, bad map[*yaml.Node]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if !bad[k] && !bad[v] {
				prune(v, bad)
				kept = append(kept, k, v)
			}
		}
		n.Content = kept
	case yaml.SequenceNode:
		kept := n.Content[:0]
		for _, item := range n.Content {
			if !bad[item] {
				prune(item, bad)
				kept = append(kept, item)
			}
		}
		n.Content = kept
	}
}

func (c *converter) fail(n *yaml.Node, path, format string, args ...any) {
	c.bad[n] = true
	c.problems = append(c.problems, diag.Problem{
		Location: diag.Location{File: c.files[n], Line: n.Line},
		Path:     path,
		Message:  fmt.Sprintf(format, args...),
	})
}

func (c *converter) convert(n *yaml.Node, t reflect.Type, path string) any {
	if c.values++; c.values > maxValues {
		if c.values == maxValues+1 {
			c.fail(n, path, "the document expands to more than %d values (aliases of aliases?); reading stops here", maxValues)
		}
		c.fatal = true
		return nil
	}
	if n.Kind == yaml.AliasNode {
		// A problem inside an anchor's subtree is pruned there; the alias node itself stays.
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(unmarshalerType) {
		// Kubernetes leaf types (quantities, int-or-string) decode themselves.
		if n.Kind != yaml.ScalarNode {
			c.fail(n, path, "expected a single value, got %s", kindName(n))
			return nil
		}
		// Decode the value here too: the typed decode at the end knows no field
		// paths or lines, so a bad quantity would be reported at the top of the file.
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n, path, "%v", err)
			return nil
		}
		data, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(data)
		}
		if err != nil {
			c.fail(n, path, "cannot use %s: %v", kindName(n), err)
			return nil
		}
		return v
	}
	switch t.Kind() {
	case reflect.Struct:
		return c.object(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.fail(n, path, "expected a mapping, got %s", kindName(n))
			return nil
		}
		out := map[string]any{}
		c.pairs(n, path, func(k, v *yaml.Node) {
			out[k.Value] = c.convert(v, t.Elem(), join(path, k.Value))
		})
		return out
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, path, "expected a list, got %s", kindName(n))
			return nil
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.fail(n, path, "expected a string, got %s", kindName(n))
			return nil
		}
		return n.Value
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			c.fail(n, path, "expected true or false, got %s", kindName(n))
			return nil
		}
		return b
	case reflect.Int32, reflect.Int64, reflect.Int:
		i, err := strconv.ParseInt(n.Value, 0, t.Bits())
		var numErr *strconv.NumError
		switch {
		case n.Kind == yaml.ScalarNode && n.Tag == "!!int" && errors.As(err, &numErr) && numErr.Err == strconv.ErrRange:
			c.fail(n, path, "%s is out of range (%d to %d)", n.Value, int64(-1)<<(t.Bits()-1), int64(^uint64(0)>>(65-t.Bits())))
			return nil
		case n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil:
			c.fail(n, path, "expected a whole number, got %s", kindName(n))
			return nil
		}
		return i
	case reflect.Interface:
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n, path, "%v", err)
		}
		return v
	}
	c.fail(n, path, "cannot hold %s", kindName(n))
	return nil
}

// object converts a mapping into a struct's fields, by their JSON names.
func (c *converter) object(n *yaml.Node, t reflect.Type, path string) any {
	if n.Kind != yaml.MappingNode {
		c.fail(n, path, "expected a mapping, got %s", kindName(n))
		return nil
	}
	fields := jsonFields(t)
	out := map[string]any{}
	c.pairs(n, path, func(k, v *yaml.Node) {
		f, ok := fields[k.Value]
		switch {
		case k.Value == patchKey && ok && !c.overlay:
			c.fail(k, join(path, k.Value), "$patch is only valid in an overlay")
		case !ok:
			c.fail(k, join(path, k.Value), "unknown field %q; valid fields are %s", k.Value, strings.Join(sortedKeys(fields), ", "))
		default:
			out[k.Value] = c.convert(v, f, join(path, k.Value))
		}
	})
	return out
}

// pairs visits a mapping's entries, reporting keys written twice.
func (c *converter) pairs(n *yaml.Node, path string, visit func(k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			c.fail(k, join(path, k.Value), "written twice in the same mapping")
			continue
		}
		seen[k.Value] = true
		visit(k, v)
	}
}

// jsonFields maps a struct's JSON field names to their types, following inline embeds.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != patchKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
