package load_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/validate"
)

// base is a valid spec with three task groups, written so tests can name its lines.
const base = `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: demo, namespace: airflow}
airflow:
  version: "3.3.2"
  imagePullSecrets: [regcred]
  config:
    core: {default_task_retries: "2"}
executor: CeleryExecutor,KubernetesExecutor
database:
  type: postgres
  host: pg.example.com
  name: airflow
  user: airflow
  passwordSecret: {name: airflow-db, key: password}
broker:
  redis: {}
taskGroups:
  - name: default
    replicas: 2
  - name: fortran
    executor: KubernetesExecutor
    image: registry.example.com/fortran:1
  - name: gis
    image: registry.example.com/gis:1
    autoscaling: {minReplicas: 1, maxReplicas: 10}
`

// quantities compares resource quantities by value (their fields are unexported).
var quantities = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

func in(name, data string) load.Input { return load.Input{Name: name, Data: []byte(data)} }

// loadRelease loads spec with overlays and fails the test on any problem.
func loadRelease(t *testing.T, spec string, overlays ...string) *load.Result {
	t.Helper()
	var ovs []load.Input
	for i, o := range overlays {
		ovs = append(ovs, in(overlayName(i), o))
	}
	res, err := load.Load(in("spec.yaml", spec), ovs...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return res
}

func overlayName(i int) string { return "overlay" + string(rune('1'+i)) + ".yaml" }

// TestOverlayMerge: a spec with overlays decodes to the same release as the merged spec
// written out by hand.
func TestOverlayMerge(t *testing.T) {
	for _, tc := range []struct {
		name     string
		overlays []string
		// edit turns base into the expected merged spec.
		edit func(string) string
	}{
		{
			name:     "deep map merge keeps sibling keys",
			overlays: []string{"airflow:\n  image: registry.example.com/airflow:3.3.2\n  config:\n    core: {parallelism: \"64\"}\n    scheduler: {parsing_processes: \"4\"}\n"},
			edit: func(s string) string {
				return strings.Replace(s, `    core: {default_task_retries: "2"}`, `    core: {default_task_retries: "2", parallelism: "64"}
    scheduler: {parsing_processes: "4"}
  image: registry.example.com/airflow:3.3.2`, 1)
			},
		},
		{
			name:     "task group merged by name, others unchanged",
			overlays: []string{"taskGroups:\n  - name: gis\n    autoscaling: {maxReplicas: 3}\n"},
			edit: func(s string) string {
				return strings.Replace(s, "{minReplicas: 1, maxReplicas: 10}", "{minReplicas: 1, maxReplicas: 3}", 1)
			},
		},
		{
			name:     "task group added at the end",
			overlays: []string{"taskGroups:\n  - name: gpu\n    executor: KubernetesExecutor\n    image: registry.example.com/gpu:1\n"},
			edit: func(s string) string {
				return s + "  - name: gpu\n    executor: KubernetesExecutor\n    image: registry.example.com/gpu:1\n"
			},
		},
		{
			name:     "$patch: delete removes a task group",
			overlays: []string{"taskGroups:\n  - name: fortran\n    $patch: delete\n"},
			edit: func(s string) string {
				return strings.Replace(s, "  - name: fortran\n    executor: KubernetesExecutor\n    image: registry.example.com/fortran:1\n", "", 1)
			},
		},
		{
			name:     "null deletes a map key, also inside a group",
			overlays: []string{"broker: null\nexecutor: KubernetesExecutor\ntaskGroups:\n  - name: gis\n    autoscaling: null\n    executor: KubernetesExecutor\n  - {name: default, replicas: null, executor: KubernetesExecutor}\n"},
			edit: func(s string) string {
				s = strings.Replace(s, "broker:\n  redis: {}\n", "", 1)
				s = strings.Replace(s, "executor: CeleryExecutor,KubernetesExecutor", "executor: KubernetesExecutor", 1)
				s = strings.Replace(s, "    autoscaling: {minReplicas: 1, maxReplicas: 10}\n", "    executor: KubernetesExecutor\n", 1)
				return strings.Replace(s, "    replicas: 2\n", "    executor: KubernetesExecutor\n", 1)
			},
		},
		{
			name:     "a list of plain values is replaced, not merged",
			overlays: []string{"airflow:\n  imagePullSecrets: [prodcred, mirrorcred]\n"},
			edit: func(s string) string {
				return strings.Replace(s, "[regcred]", "[prodcred, mirrorcred]", 1)
			},
		},
		{
			name: "overlays apply in order",
			overlays: []string{
				"taskGroups:\n  - {name: default, replicas: 5}\n  - {name: gpu, executor: KubernetesExecutor}\n",
				"taskGroups:\n  - {name: default, replicas: 7}\n  - {name: gpu, $patch: delete}\n",
			},
			edit: func(s string) string { return strings.Replace(s, "replicas: 2", "replicas: 7", 1) },
		},
		{
			name:     "mapping keys add up, scalars are replaced",
			overlays: []string{"broker: {urlSecret: {name: broker, key: url}}\nmetadata: {name: demo-prod}\n"},
			edit: func(s string) string {
				s = strings.Replace(s, "broker:\n  redis: {}\n", "broker: {redis: {}, urlSecret: {name: broker, key: url}}\n", 1)
				return strings.Replace(s, "metadata: {name: demo, namespace: airflow}", "metadata: {name: demo-prod, namespace: airflow}", 1)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.edit(base)
			if want == base {
				t.Fatal("edit changed nothing: the case would test nothing")
			}
			got := loadRelease(t, base, tc.overlays...).Release
			expected := loadRelease(t, want).Release
			if d := cmp.Diff(expected, got, quantities); d != "" {
				t.Errorf("merged release differs from the hand-merged spec (-want +got):\n%s", d)
			}
		})
	}
}

// TestOverlayErrors: problems of overlays name the overlay's file and line.
func TestOverlayErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     string
		overlays []string
		want     string
	}{
		{
			name:     "delete a group that is not there",
			spec:     base,
			overlays: []string{"# prod\ntaskGroups:\n  - name: default\n    replicas: 3\n  - name: ghost\n    $patch: delete\n"},
			want:     `overlay1.yaml:5: taskGroups[name=ghost]: deletes "ghost", which is not in the spec`,
		},
		{
			name:     "delete a group from a spec without taskGroups",
			spec:     strings.Split(base, "taskGroups:")[0],
			overlays: []string{"taskGroups:\n  - {name: gis, $patch: delete}\n"},
			want:     `overlay1.yaml:2: taskGroups[name=gis]: deletes "gis", which is not in the spec`,
		},
		{
			name:     "delete a group from a spec whose taskGroups is null",
			spec:     strings.Split(base, "taskGroups:")[0] + "taskGroups:\n",
			overlays: []string{"taskGroups:\n  - {name: gis, $patch: delete}\n"},
			want:     `overlay1.yaml:2: taskGroups[name=gis]: deletes "gis", which is not in the spec`,
		},
		{
			name:     "delete twice: the second overlay no longer finds it",
			spec:     base,
			overlays: []string{"taskGroups:\n  - {name: gis, $patch: delete}\n", "\ntaskGroups:\n  - {name: gis, $patch: delete}\n"},
			want:     `overlay2.yaml:3: taskGroups[name=gis]: deletes "gis", which is not in the spec`,
		},
		{
			name:     "a patch that is not delete",
			spec:     base,
			overlays: []string{"taskGroups:\n  - name: gis\n    $patch: replace\n"},
			want:     `overlay1.yaml:2: taskGroups[name=gis].$patch: "replace" is not a patch; the only one is delete`,
		},
		{
			name: "$patch in the main spec",
			spec: base + "  - name: old\n    $patch: delete\n",
			want: `spec.yaml:28: taskGroups[3].$patch: $patch is only valid in an overlay`,
		},
		{
			name:     "$patch where no list item is",
			spec:     base,
			overlays: []string{"database:\n  $patch: delete\n"},
			want:     `overlay1.yaml:2: database.$patch: unknown field "$patch"; valid fields are connectionSecret, host, migration, name, passwordSecret, port, sslMode, type, user`,
		},
		{
			name:     "unknown field in an overlay",
			spec:     base,
			overlays: []string{"taskGroups:\n  - name: gis\n    replica: 3\n"},
			want:     `overlay1.yaml:3: taskGroups[0].replica: unknown field "replica"; valid fields are affinity, autoscaling, concurrency, env, envFrom, executor, image, initContainers, name, nodeSelector, podAnnotations, podLabels, podOperators, priorityClassName, replicas, resources, securityContext, serviceAccount, sidecars, terminationGracePeriodSeconds, tolerations, topologySpreadConstraints, volumes`,
		},
		{
			name:     "wrong kind in an overlay",
			spec:     base,
			overlays: []string{"\n\ntaskGroups: {name: gis}\n"},
			want:     `overlay1.yaml:3: taskGroups: expected a list, got a mapping`,
		},
		{
			name:     "overlay that is not YAML",
			spec:     base,
			overlays: []string{"taskGroups:\n  - name: [gis\n"},
			want:     `overlay1.yaml:2: not valid YAML: did not find expected ',' or ']'`,
		},
		{
			name:     "problems of spec and overlay together, sorted by file",
			spec:     strings.Replace(base, "  host: pg.example.com", "  hots: pg.example.com", 1),
			overlays: []string{"brokr: {}\n"},
			want: `overlay1.yaml:1: brokr: unknown field "brokr"; valid fields are airflow, apiVersion, auth, broker, components, database, executor, kind, kubernetesAPI, metadata, metrics, networkPolicy, rbac, secrets, serviceAccount, storage, taskGroups, ui, xcom
spec.yaml:12: database.hots: unknown field "hots"; valid fields are connectionSecret, host, migration, name, passwordSecret, port, sslMode, type, user`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ovs []load.Input
			for i, o := range tc.overlays {
				ovs = append(ovs, in(overlayName(i), o))
			}
			res, err := load.Load(in("spec.yaml", tc.spec), ovs...)
			if err == nil {
				t.Fatalf("Load succeeded (taskGroups %+v), want error:\n%s", res.Release.TaskGroups, tc.want)
			}
			if _, ok := err.(diag.List); !ok {
				t.Errorf("error is a %T, want a diag.List", err)
			}
			if d := cmp.Diff(tc.want, err.Error()); d != "" {
				t.Errorf("Load error (-want +got):\n%s", d)
			}
		})
	}
}

// TestOverlayProblemsPointAtOverlay: validate's problems about a value an overlay
// wrote point at the overlay's line, those about the spec's values at the spec's.
func TestOverlayProblemsPointAtOverlay(t *testing.T) {
	spec := strings.Replace(base, `  version: "3.3.2"`, `  version: "3.3.2"
  imagePullPolicy: Sometimes`, 1)
	overlay := `# production
taskGroups:
  - name: gis
    executor: KubernetesExcutor
  - name: gpu
    executor: KubernetesExecutor
    autoscaling: {maxReplicas: 2}
storage:
  dags:
    nfs: {server: nas.example.com, path: dags}
kubernetesAPI: {verifySSL: false}
`
	res := loadRelease(t, spec, overlay)
	v1alpha1.SetDefaults(res.Release)
	got := validate.Validate(res.Release, res.Index.Locate).Errors().Error()
	want := `overlay1.yaml:4: taskGroups[2] (gis).executor: "KubernetesExcutor" is not one of the release's executors (CeleryExecutor, KubernetesExecutor)
overlay1.yaml:7: taskGroups[3] (gpu).autoscaling: KubernetesExecutor groups have no workers to scale; only CeleryExecutor groups do
overlay1.yaml:10: storage.dags.nfs.path: "dags" must be the export's absolute path
overlay1.yaml:11: kubernetesAPI.verifySSL: false turns off TLS checks of the Kubernetes API; give caBundle with the API's CA instead, or set allowInsecureTLS: true to accept the risk
spec.yaml:6: airflow.imagePullPolicy: "Sometimes" is not one of Always, IfNotPresent, Never`
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Validate (-want +got):\n%s", d)
	}
}

// TestFiles reads specs and overlays from disk; an overlay folder means its overlay.yaml.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "spec.yaml")
	prod := filepath.Join(dir, "overlays", "production")
	file := filepath.Join(dir, "replicas.yaml")
	write(t, spec, base)
	write(t, filepath.Join(prod, "overlay.yaml"), "taskGroups:\n  - {name: default, replicas: 4}\n  - {name: fortran, $patch: delete}\n")
	write(t, file, "\ntaskGroups:\n  - {name: default, replicas: 6}\n")

	res, err := load.Files(spec, []string{prod, file})
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	var names []string
	for _, g := range res.Release.TaskGroups {
		names = append(names, g.Name)
	}
	if got, want := strings.Join(names, ","), "default,gis"; got != want {
		t.Errorf("task groups %s, want %s (the folder's overlay.yaml deletes fortran)", got, want)
	}
	if got := *res.Release.TaskGroups[0].Replicas; got != 6 {
		t.Errorf("taskGroups[0].replicas = %d, want 6 (the file overlay comes last)", got)
	}
	if got, want := res.Index["taskGroups[0].replicas"], (diag.Location{File: file, Line: 3}); got != want {
		t.Errorf("taskGroups[0].replicas written at %+v, want %+v", got, want)
	}
	if got, want := res.Index["taskGroups[1].image"], (diag.Location{File: spec, Line: 25}); got != want {
		t.Errorf("taskGroups[1].image written at %+v, want %+v", got, want)
	}

	// A folder without overlay.yaml, and a missing spec, name the path they looked for.
	empty := filepath.Join(dir, "overlays", "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec     string
		overlays []string
		want     string
	}{
		{spec, []string{empty}, filepath.Join(empty, "overlay.yaml")},
		{filepath.Join(dir, "nope.yaml"), nil, filepath.Join(dir, "nope.yaml")},
	} {
		_, err := load.Files(tc.spec, tc.overlays)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Files(%s, %v) error %v, want a not-exist error naming %s", tc.spec, tc.overlays, err, tc.want)
		}
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIndex: every written field path is indexed with the line of its value.
func TestIndex(t *testing.T) {
	ix := loadRelease(t, base).Index
	for path, line := range map[string]int{
		"":                                      1,
		"metadata.name":                         3,
		"airflow.config.core":                   8,
		"airflow.imagePullSecrets[0]":           6,
		"executor":                              9,
		"database.passwordSecret.key":           15,
		"taskGroups":                            19,
		"taskGroups[1]":                         21,
		"taskGroups[1].executor":                22,
		"taskGroups[2].autoscaling.max":         0,
		"taskGroups[2].autoscaling.maxReplicas": 26,
	} {
		got, ok := ix[path]
		switch {
		case line == 0 && ok:
			t.Errorf("Index[%q] = %+v, want no entry (never written)", path, got)
		case line != 0 && got != (diag.Location{File: "spec.yaml", Line: line}):
			t.Errorf("Index[%q] = %+v, want spec.yaml:%d", path, got, line)
		}
	}
}

// TestLocate: a path that was not written is placed at its nearest written parent.
func TestLocate(t *testing.T) {
	loc := func(line int) diag.Location { return diag.Location{File: "s.yaml", Line: line} }
	ix := load.Index{
		"":                                loc(1),
		"database":                        loc(5),
		"taskGroups":                      loc(10),
		"taskGroups[1]":                   loc(12),
		"taskGroups[1].autoscaling":       loc(14),
		"airflow.config.core":             loc(20),
		"taskGroups[1].nodeSelector.pool": loc(30),
	}
	for _, tc := range []struct {
		path string
		want diag.Location
	}{
		{"database", loc(5)},
		{"database.port", loc(5)},
		{"database.passwordSecret.key", loc(5)},
		{"taskGroups[1].autoscaling.minReplicas", loc(14)},
		{"taskGroups[1].executor", loc(12)},
		{"taskGroups[3].executor", loc(10)},
		{"taskGroups[1].nodeSelector.pool", loc(30)},
		{"taskGroups[1].nodeSelector.kubernetes.io/os", loc(12)},
		{"airflow.config.core.parallelism", loc(20)},
		{"airflow.version", loc(1)},
		// Top-level fields nobody wrote: the document itself. (Locate used to loop
		// forever here: a top-level path had itself as its parent.)
		{"broker", loc(1)},
		{"taskGroups[", loc(1)},
		{"[0]", loc(1)},
		{"", loc(1)},
	} {
		done := make(chan diag.Location, 1)
		go func() { done <- ix.Locate(tc.path) }()
		select {
		case got := <-done:
			if got != tc.want {
				t.Errorf("Locate(%q) = %+v, want %+v", tc.path, got, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Locate(%q) did not return", tc.path)
		}
	}
	if got := (load.Index{}).Locate("broker"); got != (diag.Location{}) {
		t.Errorf("Locate on an empty index = %+v, want the zero location", got)
	}
}

// laughs is a spec whose aliases of aliases expand to k⁴ values in four typed lists
// (taskGroups, nodeSelectorTerms, matchExpressions, values) from a few hundred bytes.
func laughs(k int) string {
	list := func(alias string) string {
		return "[" + strings.TrimSuffix(strings.Repeat("*"+alias+", ", k), ", ") + "]"
	}
	return `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: demo, namespace: airflow}
database: {type: postgres}
x0: &v [` + strings.TrimSuffix(strings.Repeat("a, ", k), ", ") + `]
x1: &e {key: k, operator: In, values: *v}
x2: &m ` + list("e") + `
x3: &t {matchExpressions: *m}
x4: &ts ` + list("t") + `
x5: &g {name: g, affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: *ts}}}}
taskGroups: ` + list("g") + "\n"
}

// TestAliasExpansionBounded: a small spec whose aliases expand to billions of values
// is refused quickly instead of being walked value by value.
func TestAliasExpansionBounded(t *testing.T) {
	spec := laughs(64) // 64⁴ ≈ 16.8 million values from about 1 KB
	done := make(chan error, 1)
	go func() {
		_, err := load.Load(in("spec.yaml", spec))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), ": taskGroups[0].affinity.") || !strings.Contains(err.Error(), "expands to more than") {
			t.Errorf("Load error = %v, want one inside taskGroups[0] saying the document expands too far", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load still walking aliases after 10s")
	}
}

// TestAliases: anchors and aliases in reasonable numbers are ordinary YAML and load.
func TestAliases(t *testing.T) {
	spec := base + `  - name: heavy
    executor: KubernetesExecutor
    resources: &big {requests: {cpu: "4", memory: 16Gi}}
    nodeSelector: &pool {pool: big}
  - name: heavier
    executor: KubernetesExecutor
    resources: *big
    nodeSelector: *pool
`
	groups := loadRelease(t, spec).Release.TaskGroups
	if len(groups) != 5 {
		t.Fatalf("got %d task groups, want 5", len(groups))
	}
	heavy, heavier := groups[3], groups[4]
	if !cmp.Equal(heavy.Resources, heavier.Resources, quantities) || heavier.Resources == nil || heavier.NodeSelector["pool"] != "big" {
		t.Errorf("aliases not followed: heavy %+v %v, heavier %+v %v", heavy.Resources, heavy.NodeSelector, heavier.Resources, heavier.NodeSelector)
	}
	if got := heavier.Resources.Requests.Memory().String(); got != "16Gi" {
		t.Errorf("heavier memory request %s, want 16Gi", got)
	}
}
