package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airkube/airkube/generator/load"
)

// specWithGroups is a Celery+Kubernetes release with n task groups, alternating executors.
func specWithGroups(n int) load.Input {
	var b strings.Builder
	b.WriteString(`apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: bench, namespace: airflow}
executor: CeleryExecutor,KubernetesExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
broker: {redis: {}}
storage:
  dags: {nfs: {server: nas, path: /dags}}
  logs: {nfs: {server: nas, path: /logs}}
taskGroups:
`)
	for i := 0; i < n; i++ {
		executor := "CeleryExecutor"
		if i%2 == 1 {
			executor = "KubernetesExecutor"
		}
		fmt.Fprintf(&b, "  - {name: g%d, executor: %s, image: registry.example.com/g%d:1}\n", i, executor, i)
	}
	return load.Input{Name: "bench.yaml", Data: []byte(b.String())}
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
