//go:build e2e

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/render"
	"github.com/airkube/airkube/internal/golden"
)

const repoRoot = "../.."

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func goldenCases(t *testing.T) []golden.Case {
	t.Helper()
	return golden.Cases(t, filepath.Join(repoRoot, "tests", "golden"), repoRoot)
}

func readInput(t *testing.T, path string, overlay bool) load.Input {
	t.Helper()
	in, err := load.ReadFile(path, overlay)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// renderWith renders a spec file with overlay files, then in-memory overlays (YAML text).
func renderWith(t *testing.T, spec string, overlays []string, extra ...string) *render.Result {
	t.Helper()
	var ins []load.Input
	for _, o := range overlays {
		ins = append(ins, readInput(t, o, true))
	}
	for i, e := range extra {
		ins = append(ins, load.Input{Name: "e2e-overlay-" + string(rune('a'+i)) + ".yaml", Data: []byte(e)})
	}
	res, err := render.Inputs(readInput(t, spec, false), ins...)
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
