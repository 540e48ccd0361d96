// Package jsonschema derives a JSON Schema from Go types by their JSON tags. It serves
// both the spec's schema (`airkube schema`, for editors) and the chart's
// values.schema.json, so neither is written by hand or drifts from the types.
package jsonschema

import (
	"encoding/json"
	"reflect"
	"strings"
)

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// For returns the schema of t. Kubernetes API types (k8s.io/...) are described by
// their shape only (object, array): the API server validates them fully.
func For(t reflect.Type, title string) map[string]any {
	s := schema(t, false)
	s["$schema"] = "https://json-schema.org/draft-07/schema#"
	s["title"] = title
	return s
}

func schema(t reflect.Type, loose bool) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return map[string]any{"type": []any{"string", "number", "integer"}}
	}
	loose = loose || strings.HasPrefix(t.PkgPath(), "k8s.io/")
	var s map[string]any
	switch t.Kind() {
	case reflect.Struct:
		s = map[string]any{"type": "object"}
		if !loose {
			props, required := map[string]any{}, []any{}
			fields(t, props, &required)
			s["properties"], s["additionalProperties"] = props, false
			if len(required) > 0 {
				s["required"] = required
			}
		}
	case reflect.Map:
		s = map[string]any{"type": "object"}
		if !loose {
			s["additionalProperties"] = schema(t.Elem(), loose)
		}
		nullable = true
	case reflect.Slice:
		s = map[string]any{"type": "array"}
		if !loose {
			s["items"] = schema(t.Elem(), loose)
		}
		nullable = true
	case reflect.String:
		s = map[string]any{"type": "string"}
	case reflect.Bool:
		s = map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		s = map[string]any{"type": "integer"}
	default:
		s = map[string]any{}
	}
	if nullable {
		if typ, ok := s["type"].(string); ok {
			s["type"] = []any{typ, "null"}
		}
	}
	return s
}

func fields(t reflect.Type, props map[string]any, required *[]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			fields(ft, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := schema(f.Type, false)
		if doc := f.Tag.Get("doc"); doc != "" {
			p["description"] = doc
		}
		props[name] = p
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}
