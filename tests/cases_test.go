package tests

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/render"
	"github.com/airkube/airkube/internal/golden"
)

// repoRoot is where case files name their spec and overlays from.
const repoRoot = ".."

// goldenCase is one case under golden/ (see golden.Case).
type goldenCase struct{ golden.Case }

func cases(t testing.TB) []goldenCase {
	t.Helper()
	var out []goldenCase
	for _, c := range golden.Cases(t, "golden", repoRoot) {
		out = append(out, goldenCase{c})
	}
	return out
}

func (c goldenCase) render(t testing.TB) *render.Result {
	t.Helper()
	res, err := render.Files(c.Spec, c.Overlays...)
	if err != nil {
		t.Fatalf("%s: render: %v", c.Name, err)
	}
	return res
}

// object is one parsed manifest document.
type object = map[string]any

// parseManifest splits a multi-document manifest into objects.
func parseManifest(t testing.TB, data []byte) []object {
	t.Helper()
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var out []object
	for _, doc := range strings.Split(string(data), "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("parsing manifest document: %v\n%s", err, doc)
		}
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

func kindName(o object) string {
	md, _ := o["metadata"].(map[string]any)
	return o["kind"].(string) + "/" + md["name"].(string)
}
