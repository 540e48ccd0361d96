package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/internal/benchspec"
	"github.com/airkube/airkube/internal/golden"
)

// specWithGroups is benchspec.Groups(n), the release make bench also renders.
func specWithGroups(n int) load.Input {
	return load.Input{Name: "bench.yaml", Data: benchspec.Groups(n)}
}

// BenchmarkRender measures a whole render (load, validate, model, Helm engine) by the
// number of task groups.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		spec := specWithGroups(n)
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Inputs(spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestRenderGroups(t *testing.T) {
	res, err := Inputs(specWithGroups(100))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(res.Manifest), "\nkind: Deployment\n"); got != 50+5 {
		t.Errorf("rendered %d Deployments, want 50 workers + 4 components + redis", got)
	}
}

// TestWriteKeepsOldOutputOnFailure: a render that fails writes nothing, and Write
// replaces a previous output whole.
func TestWriteReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	res, err := Inputs(specWithGroups(1))
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "bench", "templates", "stale.yaml")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(res, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale file survived the write: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "bench,bench.yaml" {
		t.Errorf("output folder holds %v, want bench and bench.yaml only", names)
	}
}

// TestWrittenChartRendersTheSame: the chart airkube writes, loaded back as Helm's CLI
// loads it, renders byte-identical manifests to the chart built in memory.
func TestWrittenChartRendersTheSame(t *testing.T) {
	for _, spec := range []string{"../../values/weather-etl.yaml", "../../values/example.yaml"} {
		res, err := Files(spec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Template(res.Chart, res.Name(), res.Release.Metadata.Namespace)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(res.Manifest) {
			t.Errorf("%s: the written chart renders differently from the in-memory one", spec)
		}
	}
}

// TestDropNullsAsHelm: the values templates see are what Helm's coalescing makes of the chart's values.
func TestDropNullsAsHelm(t *testing.T) {
	raw := `{"a": null, "b": {"c": null, "d": 1, "e": {"f": null}}, "g": [null, {"h": null}], "i": "x"}`
	var ours, helms map[string]any
	if err := json.Unmarshal([]byte(raw), &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &helms); err != nil {
		t.Fatal(err)
	}
	dropNulls(ours)
	got, err := chartutil.CoalesceValues(&chart.Chart{Metadata: &chart.Metadata{Name: "x"}, Values: helms}, helms)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ours, map[string]any(got)) {
		t.Errorf("dropNulls made %v, Helm %v", ours, got)
	}
}

// TestYAMLFromJSON: values.yaml is what sigs.k8s.io/yaml (Helm's) writes, for every golden case's values
// and for the awkward scalars.
func TestYAMLFromJSON(t *testing.T) {
	inputs := [][]byte{[]byte(`{"int": 3, "neg": -7, "big": 9007199254740993, "float": 0.5, "exp": 1e+06, "zero": 0.0,
		"s": "yes", "n": "0123", "t": true, "nil": null, "empty": {}, "list": [], "nested": [{"b": 1, "a": "x: y"}],
		"multi": "a\nb\n", "unicode": "Grüße \u0026 <>", "keys": {"10": 1, "9": 2, "a1": 3, "A": 4}}`)}
	for _, c := range golden.Cases(t, filepath.Join("..", "..", "tests", "golden"), filepath.Join("..", "..")) {
		res, err := Files(c.Spec, c.Overlays...)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		v, err := yaml.YAMLToJSON(res.Chart["values.yaml"])
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, v)
	}
	if len(inputs) < 5 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, j := range inputs {
		want, err := yaml.JSONToYAML(j)
		if err != nil {
			t.Fatal(err)
		}
		got, err := yamlFromJSON(j)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("yamlFromJSON differs from sigs.k8s.io/yaml for %.200s:\ngot:\n%s\nwant:\n%s", j, got, want)
		}
	}
}
