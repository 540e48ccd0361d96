package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/render"
)

// podTemplates renders the weather release with overlays and returns each
// Deployment's pod template, by name, and the whole manifest.
func podTemplates(t *testing.T, overlay ...string) (map[string]any, string) {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join(repoRoot, "values", "weather-etl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var overlays []load.Input
	for i, o := range overlay {
		if o != "" {
			overlays = append(overlays, load.Input{Name: fmt.Sprintf("change-%d.yaml", i), Data: []byte(o)})
		}
	}
	res, err := render.Inputs(load.Input{Name: "weather-etl.yaml", Data: spec}, overlays...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, o := range parseManifest(t, res.Manifest) {
		if o["kind"] == "Deployment" {
			out[kindName(o)] = o["spec"].(map[string]any)["template"]
		}
	}
	return out, string(res.Manifest)
}

// changed names the Deployments whose pod template differs, and those gone ("gone: " and the name).
func changed(before, after map[string]any) []string {
	var out []string
	for name, tmpl := range after {
		if !reflect.DeepEqual(before[name], tmpl) {
			out = append(out, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			out = append(out, "gone: "+name)
		}
	}
	sort.Strings(out)
	return out
}

// TestRestartScope: a change to one task group changes only that group's workload.
func TestRestartScope(t *testing.T) {
	base, baseManifest := podTemplates(t, "")
	for _, tc := range []struct {
		name, overlay string
		want          []string
	}{
		{"no change", "", nil},
		{"celery group image", "taskGroups: [{name: gis, image: registry.example.com/weather/gdal-airflow:3.10}]", []string{"Deployment/weather-etl-worker-gis"}},
		{"celery group resources", "taskGroups: [{name: default, resources: {requests: {cpu: '3'}}}]", []string{"Deployment/weather-etl-worker-default"}},
		// Kubernetes groups live in the pod template file, which the scheduler re-reads.
		{"kubernetes group image", "taskGroups: [{name: fortran, image: registry.example.com/weather/fortran-tools:2020.1}]", nil},
		{"new task group", "taskGroups: [{name: radar, executor: CeleryExecutor, volumes: [xcom]}]", []string{"Deployment/weather-etl-worker-radar"}},
		// Identity webhooks act when a pod starts: the group's pods restart, no other.
		{"celery group identity", "taskGroups: [{name: gis, serviceAccount: {annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/gis'}}}]",
			[]string{"Deployment/weather-etl-worker-gis"}},
		{"celery group volumes", "taskGroups: [{name: gis, volumes: [grib, model-output, xcom]}]", []string{"Deployment/weather-etl-worker-gis"}},
		{"celery group pod annotations and env", "taskGroups: [{name: gis, podAnnotations: {backup: 'no'}, env: [{name: GDAL_CACHEMAX, value: '512'}]}]",
			[]string{"Deployment/weather-etl-worker-gis"}},
		// A component's data volumes, init containers and sidecars are its pods' alone.
		{"dag-processor volumes", "components: {dagProcessor: {volumes: [grib]}}", []string{"Deployment/weather-etl-dag-processor"}},
		{"scheduler init container", "components: {scheduler: {initContainers: [{name: warm, image: busybox:1.37, volumeMounts: [{name: dags, mountPath: /opt/airflow/dags}]}]}}",
			[]string{"Deployment/weather-etl-scheduler"}},
		{"triggerer sidecar", "components: {triggerer: {sidecars: [{name: agent, image: registry.example.com/ops/agent:3}]}}", []string{"Deployment/weather-etl-triggerer"}},
		{"api-server volumes and sidecar", "components: {apiServer: {volumes: [model-output], sidecars: [{name: agent, image: registry.example.com/ops/agent:3}]}}",
			[]string{"Deployment/weather-etl-api-server"}},
		// Connections are read where DAGs are parsed and tasks run, not by the api-server.
		{"a connection's Secret", "airflow: {connections: [{id: grib_archive, secret: {name: weather-connections-v2, key: grib_archive}}]}", []string{
			"Deployment/weather-etl-dag-processor", "Deployment/weather-etl-scheduler", "Deployment/weather-etl-triggerer",
			"Deployment/weather-etl-worker-default", "Deployment/weather-etl-worker-gis"}},
		{"shared airflow config", "airflow: {config: {core: {parallelism: '64'}}}", []string{
			"Deployment/weather-etl-api-server", "Deployment/weather-etl-dag-processor", "Deployment/weather-etl-scheduler",
			"Deployment/weather-etl-triggerer", "Deployment/weather-etl-worker-default", "Deployment/weather-etl-worker-gis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after, manifest := podTemplates(t, tc.overlay)
			if got := changed(base, after); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changed pod templates = %v, want %v", got, tc.want)
			}
			// A change that restarts nothing must still reach the release (a pod template file,
			// a ConfigMap): otherwise the row would pass with its overlay lost.
			if tc.overlay != "" && manifest == baseManifest {
				t.Errorf("the overlay changed nothing in the rendered release:\n%s", tc.overlay)
			}
		})
	}
}

// TestRestartScopeGitBundle: a change to the git DAG bundle rolls the pods that read it (the
// dag-processor and the Celery workers; task pods read it when they start) and no other component.
func TestRestartScopeGitBundle(t *testing.T) {
	const git = "storage: {dags: {nfs: null, git: {repo: 'https://git.example.com/weather/dags.git', connId: grib_archive}}}"
	base, baseManifest := podTemplates(t, git)
	readers := []string{"Deployment/weather-etl-dag-processor", "Deployment/weather-etl-worker-default", "Deployment/weather-etl-worker-gis"}
	for _, tc := range []struct {
		name, overlay string
		want          []string
	}{
		{"branch", "storage: {dags: {git: {ref: production}}}", readers},
		{"repository", "storage: {dags: {git: {repo: 'git@git.example.com:weather/dags.git'}}}", readers},
		{"refresh interval and folder", "storage: {dags: {git: {refreshInterval: 2m, subPath: dags}}}", readers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after, manifest := podTemplates(t, git, tc.overlay)
			if got := changed(base, after); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changed pod templates = %v, want %v", got, tc.want)
			}
			if manifest == baseManifest {
				t.Errorf("the overlay changed nothing in the rendered release:\n%s", tc.overlay)
			}
			// The task pods' templates read the bundle from the same ConfigMap: the file is unchanged,
			// the ConfigMap is not.
			if !strings.Contains(manifest, "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST") {
				t.Error("no pod reads the bundle's config")
			}
		})
	}
}

// TestHelmLint runs Helm's own linter on every case's chart, with its values and schema.
func TestHelmLint(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			res := c.render(t)
			dir := t.TempDir()
			if err := render.Write(res, dir); err != nil {
				t.Fatal(err)
			}
			kv, err := chartutil.ParseKubeVersion("v1.37.2")
			if err != nil {
				t.Fatal(err)
			}
			linter := lint.AllWithKubeVersion(filepath.Join(dir, res.Name()), nil, res.Release.Metadata.Namespace, kv)
			for _, m := range linter.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}
