package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/render"
)

// repoRoot is where case files name their spec and overlays from.
const repoRoot = ".."

// goldenCase is one folder under golden/: its own spec.yaml, or a case.yaml naming a
// spec and overlays of the repository (so the shipped examples are what is tested).
type goldenCase struct {
	Name     string
	Dir      string
	Spec     string   `json:"spec"`
	Overlays []string `json:"overlays"`
}

func cases(t testing.TB) []goldenCase {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("golden", "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	var out []goldenCase
	for _, dir := range dirs {
		c := goldenCase{Name: filepath.Base(dir), Dir: dir, Spec: filepath.Join(dir, "spec.yaml")}
		if data, err := os.ReadFile(filepath.Join(dir, "case.yaml")); err == nil {
			if err := yaml.UnmarshalStrict(data, &c); err != nil {
				t.Fatalf("%s/case.yaml: %v", dir, err)
			}
			c.Spec = filepath.Join(repoRoot, c.Spec)
			for i, o := range c.Overlays {
				c.Overlays[i] = filepath.Join(repoRoot, o)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no golden cases found")
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
