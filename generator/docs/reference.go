// Package docs writes the spec reference in the README from the spec's Go types, so
// the documentation of every field cannot drift from the code.
package docs

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// Reference returns a Markdown table: one row per spec field, with its type and doc.
func Reference() string {
	var b strings.Builder
	b.WriteString("| field | type | meaning |\n| --- | --- | --- |\n")
	walk(&b, reflect.TypeOf(v1alpha1.AirflowRelease{}), "")
	return b.String()
}

func walk(b *strings.Builder, t reflect.Type, prefix string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		own := ft.Kind() == reflect.Struct && strings.HasPrefix(ft.PkgPath(), "github.com/airkube/")
		elem := ft
		if ft.Kind() == reflect.Slice {
			elem = ft.Elem()
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", path, typeName(ft), strings.ReplaceAll(f.Tag.Get("doc"), "|", "\\|"))
		switch {
		case own && ft.NumField() > 0:
			walk(b, ft, path+".")
		case ft.Kind() == reflect.Slice && elem.Kind() == reflect.Struct && strings.HasPrefix(elem.PkgPath(), "github.com/airkube/"):
			walk(b, elem, path+"[].")
		}
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t.PkgPath() == "k8s.io/api/core/v1":
		return "Kubernetes " + t.Name()
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Struct && t.NumField() == 0:
		return "{}"
	case t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.Kind().String()
}
