//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/render"
)

const repoRoot = "../.."

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// goldenCase is one folder of tests/golden: its spec and overlays, as files.
type goldenCase struct {
	name     string
	spec     string
	overlays []string
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(repoRoot, "tests", "golden", "*"))
	sort.Strings(dirs)
	var out []goldenCase
	for _, d := range dirs {
		c := goldenCase{name: filepath.Base(d), spec: filepath.Join(d, "spec.yaml")}
		if data, err := os.ReadFile(filepath.Join(d, "case.yaml")); err == nil {
			var cf struct {
				Spec     string   `json:"spec"`
				Overlays []string `json:"overlays"`
			}
			if err := yaml.UnmarshalStrict(data, &cf); err != nil {
				t.Fatal(err)
			}
			c.spec = filepath.Join(repoRoot, cf.Spec)
			for _, o := range cf.Overlays {
				c.overlays = append(c.overlays, filepath.Join(repoRoot, o, "overlay.yaml"))
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no golden cases")
	}
	return out
}

func readInput(t *testing.T, path string) load.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return load.Input{Name: path, Data: data}
}

// renderWith renders a spec file with overlay files, then in-memory overlays (YAML text).
func renderWith(t *testing.T, spec string, overlays []string, extra ...string) *render.Result {
	t.Helper()
	var ins []load.Input
	for _, o := range overlays {
		ins = append(ins, readInput(t, o))
	}
	for i, e := range extra {
		ins = append(ins, load.Input{Name: "e2e-overlay-" + string(rune('a'+i)) + ".yaml", Data: []byte(e)})
	}
	res, err := render.Inputs(readInput(t, spec), ins...)
	if err != nil {
		t.Fatalf("render %s: %v", spec, err)
	}
	return res
}

// objects splits rendered manifests into unstructured objects.
func objects(t *testing.T, manifest []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(string(manifest), "\n---\n") {
		doc = strings.TrimPrefix(doc, "---\n")
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("parsing rendered document: %v", err)
		}
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	return out
}
