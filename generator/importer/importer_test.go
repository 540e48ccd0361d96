package importer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/render"
	"github.com/airkube/airkube/internal/golden"
)

// peers is the official chart beside the repository (../shared/peers); tests that need it skip
// without it.
const peers = "../../../shared/peers"

func reportText(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// importCase imports files and checks the spec, the report (or the error) against the goldens in dir.
func importCase(t *testing.T, dir string, opt Options, files ...string) *Result {
	t.Helper()
	var inputs []Input
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Name: filepath.ToSlash(f), Data: data})
	}
	res, err := Import(inputs, opt)
	if err != nil {
		var l diag.List
		if !errors.As(err, &l) {
			t.Fatalf("not a diag.List: %v", err)
		}
		golden.Check(t, filepath.Join(dir, "error.txt"), []byte(l.Error()+"\n"))
		golden.Check(t, filepath.Join(dir, "spec.yaml"), nil)
		return nil
	}
	golden.Check(t, filepath.Join(dir, "error.txt"), nil)
	golden.Check(t, filepath.Join(dir, "spec.yaml"), res.Spec)
	golden.Check(t, filepath.Join(dir, "report.txt"), []byte(reportText(res.Report)))
	return res
}

// secretsIn are the values of the files that must never reach a spec or a report: passwords and keys.
// A password that is also written as a value that is no secret (the chart's default user admin with
// the password admin) may appear as that value, so it is not among them.
func secretsIn(t *testing.T, files ...string) []string {
	t.Helper()
	secretKey := regexp.MustCompile(`^(pass|password|fernetKey|apiSecretKey|jwtSecret|webserverSecretKey)$`)
	secret, plain := map[string]bool{}, map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; v.Kind == yaml.ScalarNode && v.Value != "" {
					if secretKey.MatchString(k.Value) {
						secret[v.Value] = true
					} else {
						plain[v.Value] = true
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}

	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			t.Fatal(err)
		}
		walk(&n)
	}
	var out []string
	for s := range secret {
		if !plain[s] {
			out = append(out, s)
		}
	}
	return out
}

// checkImported holds an imported spec to what a user does next: validate it and render it. The
// spec must have no validation error, every value of the files must have its line, and no password
// of the files may appear in the spec or the report.
func checkImported(t *testing.T, res *Result, files ...string) {
	t.Helper()
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, res.Spec, 0o644); err != nil {
		t.Fatal(err)
	}
	problems, err := render.Check(spec)
	if err != nil {
		t.Fatal(err)
	}
	if errs := problems.Errors(); len(errs) > 0 {
		t.Errorf("the imported spec does not validate:\n%v\n%s", errs, res.Spec)
	}
	if _, err := render.Files(spec); err != nil {
		t.Errorf("the imported spec does not render: %v", err)
	}
	report := reportText(res.Report)
	for _, s := range secretsIn(t, files...) {
		if strings.Contains(string(res.Spec), s) || strings.Contains(report, s) {
			t.Errorf("a password or key of the values, %q, reached the spec or the report", s)
		}
	}
	lines := map[string]bool{}
	for _, l := range res.Report {
		lines[l.Path] = true
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil || len(n.Content) == 0 {
			continue
		}
		for _, leaf := range (value{node: n.Content[0]}).leaves() {
			if !leaf.set() {
				continue
			}
			found := false
			for p := range lines {
				if leaf.path == p || strings.HasPrefix(leaf.path, p+".") || strings.HasPrefix(leaf.path, p+"[") {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: %s has no report line", f, leaf.path)
			}
		}
	}
}

// TestImportGolden imports the realistic values files of testdata/*/values.yaml: each gives the spec
// and report of its folder, or the error a user would see; each spec validates and renders.
func TestImportGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/values.yaml")
	if err != nil || len(dirs) < 6 {
		t.Fatalf("want at least six golden cases, found %v (%v)", dirs, err)
	}
	for _, values := range dirs {
		dir := filepath.Dir(values)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res := importCase(t, dir, Options{}, values)
			if res == nil {
				if !strings.HasPrefix(filepath.Base(dir), "bad-") {
					t.Errorf("%s failed to import; only bad-* cases may", dir)
				}
				return
			}
			checkImported(t, res, values)
		})
	}
}

// TestImportDeterministic: the same values give byte-identical specs and reports.
func TestImportDeterministic(t *testing.T) {
	data, err := os.ReadFile("testdata/celery-sets-keda/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Import([]Input{{Name: "v.yaml", Data: data}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := Import([]Input{{Name: "v.yaml", Data: data}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if string(a.Spec) != string(b.Spec) || reportText(a.Report) != reportText(b.Report) {
			t.Fatal("two imports of the same values differ")
		}
	}
}

// TestImportLaterFilesWin: -f a -f b merges as helm does: mappings key by key, lists replaced, and the
// report names the file each value came from.
func TestImportLaterFilesWin(t *testing.T) {
	base := Input{Name: "base.yaml", Data: []byte("airflowVersion: \"3.3.2\"\ndata: {metadataSecretName: db}\nworkers: {replicas: 2, resources: {limits: {memory: 2Gi}}}\nimagePullSecrets: [a, b]\n")}
	prod := Input{Name: "prod.yaml", Data: []byte("workers:\n  replicas: 5\nimagePullSecrets: [c]\n")}
	res, err := Import([]Input{base, prod}, Options{Release: "wx", Namespace: "etl"})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Release.TaskGroups[0]
	if *g.Replicas != 5 || g.Resources.Limits.Memory().String() != "2Gi" {
		t.Errorf("default group: replicas %d, limits %v; want 5 from prod.yaml and 2Gi from base.yaml", *g.Replicas, g.Resources.Limits)
	}
	if got := strings.Join(res.Release.Airflow.ImagePullSecrets, ","); got != "c" {
		t.Errorf("imagePullSecrets %s, want c (a later list replaces)", got)
	}
	if res.Release.Metadata.Name != "wx" || res.Release.Metadata.Namespace != "etl" || res.Release.Secrets.ExistingSecret != "wx-keys" {
		t.Errorf("metadata %+v, secrets %+v: want the release wx in etl", res.Release.Metadata, res.Release.Secrets)
	}
	want := map[string]string{"workers.replicas": "prod.yaml", "workers.resources": "base.yaml"}
	for _, l := range res.Report {
		if f, ok := want[l.Path]; ok && l.File != f {
			t.Errorf("%s reported from %s, want %s", l.Path, l.File, f)
		}
	}
}

// TestImportBadInput: what cannot be read is an error naming the file and line; there is no spec.
func TestImportBadInput(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"- a\n- b\n", "v.yaml:1: an official chart values file is a mapping"},
		{"executor: [", "v.yaml: not YAML"},
		{"airflowVersion: \"3.3.2\"\ndata: {metadataSecretName: db}\nworkers:\n  resources: {limits: {memory: [1]}}\n", "v.yaml:4: workers.resources: not a valid value"},
		{"airflowVersion: \"3.3.2\"\ndata: {metadataSecretName: db}\nworkers: {celery: {sets: [{replicas: 2}]}}\n", "v.yaml:3: workers.celery.sets[0]: a worker set needs a name or a queue"},
		{"airflowVersion: \"3.3.2\"\ndata: {metadataSecretName: db}\nworkers: {queue: Big_Queue}\n", "v.yaml:3: workers.queue: \"Big_Queue\" cannot name an airkube task group"},
		{"defaultAirflowTag: latest\ndata: {metadataSecretName: db}\n", "v.yaml: airflowVersion: not set, and the image tag \"latest\" does not name a version"},
	} {
		res, err := Import([]Input{{Name: "v.yaml", Data: []byte(tc.data)}}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || res != nil {
			t.Errorf("Import(%q) = %v, %v; want no spec and an error containing %q", tc.data, res != nil, err, tc.want)
		}
	}
}

// TestEveryChartValueHandled holds topLevel to the official chart's values.schema.json: a top-level
// value the chart adds must get a reason here before the importer passes it over.
func TestEveryChartValueHandled(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(peers, "official-airflow-chart-1.19.0", "values.schema.json"))
	if os.IsNotExist(err) {
		t.Skip("the official chart is not in ../shared/peers")
	}
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	if len(schema.Properties) < 50 {
		t.Fatalf("the schema lists %d top-level values; expected the chart's 80 or so", len(schema.Properties))
	}
	for key := range schema.Properties {
		if f, ok := topLevel[key]; !ok || f.why == "" {
			t.Errorf("%s: a top-level value of the official chart the importer has no reason for", key)
		}
	}
}

// TestImportChartDefaults imports the official chart's whole values.yaml (as `helm get values --all`
// gives it), with an external database: every one of its values gets a report line, none is "not a
// value of the official chart", the chart's template text is never carried, and the spec renders.
func TestImportChartDefaults(t *testing.T) {
	chart := filepath.Join(peers, "official-airflow-chart-1.19.0", "values.yaml")
	if _, err := os.Stat(chart); os.IsNotExist(err) {
		t.Skip("the official chart is not in ../shared/peers")
	}
	own := filepath.Join("testdata", "chart-1.19.0-values", "external-db.yaml")
	data, _ := os.ReadFile(chart)
	ownData, _ := os.ReadFile(own)
	res, err := Import([]Input{{Name: chart, Data: data}, {Name: own, Data: ownData}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkImported(t, res, chart, own)
	for _, l := range res.Report {
		if strings.Contains(l.Note, "not a value of the official chart") {
			t.Errorf("%s", l)
		}
	}
	if strings.Contains(string(res.Spec), "{{") {
		t.Errorf("chart template text reached the spec:\n%s", res.Spec)
	}
	counts := map[Verdict]int{}
	for _, l := range res.Report {
		counts[l.Verdict]++
	}
	t.Logf("the chart's values.yaml: %d report lines: %v", len(res.Report), counts)
	// The whole account, kept: what the importer carries of the chart and why it leaves the rest.
	golden.Check(t, filepath.Join("testdata", "chart-1.19.0-values", "report.txt"), []byte(reportText(res.Report)))
}

// TestImportOfficialOnKind imports the values that made the official chart run on airkube's kind
// cluster (../shared/peers/official-on-kind): the report explains each of them.
func TestImportOfficialOnKind(t *testing.T) {
	dir := filepath.Join(peers, "official-on-kind")
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		t.Skip("../shared/peers/official-on-kind is absent")
	}
	var files []string
	for _, f := range []string{"official-values.yaml", "official-nohooks.yaml", "official-image-compat.yaml", "official-restricted.yaml"} {
		files = append(files, filepath.Join(dir, f))
	}
	res := importCase(t, "testdata/official-on-kind", Options{Release: "official"}, files...)
	if res != nil {
		checkImported(t, res, files...)
	}
}

// TestImportEnvs imports testdata/envs: the shared values.yaml as the spec (TestImportGolden holds
// its spec and report), and values-production.yaml and values-dev.yaml, each as an overlay of only
// what it changes. Each overlay, applied to the spec as `airkube render --overlay` does, validates
// and renders; its report lines are its file's; no password reaches it.
func TestImportEnvs(t *testing.T) {
	dir := "testdata/envs"
	read := func(name string) Input {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return Input{Name: dir + "/" + name, Data: data}
	}
	envs := []Env{{Name: "production", Input: read("values-production.yaml")}, {Name: "dev", Input: read("values-dev.yaml")}}
	res, overlays, err := ImportEnvs([]Input{read("values.yaml")}, envs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(overlays) != 2 {
		t.Fatalf("%d overlays, want 2", len(overlays))
	}
	tmp := t.TempDir()
	spec := filepath.Join(tmp, "spec.yaml")
	if err := os.WriteFile(spec, res.Spec, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, o := range overlays {
		golden.Check(t, filepath.Join(dir, "overlays", o.Name, "overlay.yaml"), o.Spec)
		golden.Check(t, filepath.Join(dir, "overlays", o.Name, "report.txt"), []byte(reportText(o.Report)))
		for _, l := range o.Report {
			if l.File != envs[i].Input.Name {
				t.Errorf("%s's report has a line of another file: %s", o.Name, l)
			}
		}
		path := filepath.Join(tmp, o.Name+".yaml")
		if err := os.WriteFile(path, o.Spec, 0o644); err != nil {
			t.Fatal(err)
		}
		problems, err := render.Check(spec, path)
		if err != nil {
			t.Fatal(err)
		}
		if errs := problems.Errors(); len(errs) > 0 {
			t.Errorf("the spec with overlay %s does not validate:\n%v", o.Name, errs)
		}
		if _, err := render.Files(spec, path); err != nil {
			t.Errorf("the spec with overlay %s does not render: %v", o.Name, err)
		}
		for _, s := range secretsIn(t, filepath.Join(dir, "values-"+o.Name+".yaml")) {
			if strings.Contains(string(o.Spec)+reportText(o.Report), s) {
				t.Errorf("a password of %s reached its overlay or report", o.Name)
			}
		}
	}
	// Only what differs: the dev overlay leaves the database and the scheduler alone, and deletes the
	// set its file leaves out.
	if dev := string(overlays[1].Spec); strings.Contains(dev, "database") || !strings.Contains(dev, "{name: fortran, $patch: delete}") {
		t.Errorf("the dev overlay:\n%s", dev)
	}

	_, _, err = ImportEnvs([]Input{read("values.yaml")}, []Env{{Name: "Prod", Input: read("values-production.yaml")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), `environment "Prod" is not a folder name`) {
		t.Errorf("an environment named Prod: %v", err)
	}
}

// TestDiffNodeRoundTrips: for pairs of specs, the overlay diffNode writes, merged over the first as
// overlays are, gives the second (sameRelease), including removed keys, list items and groups.
func TestDiffNodeRoundTrips(t *testing.T) {
	base := `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: wx, namespace: airflow}
executor: CeleryExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
broker: {redis: {}}
airflow: {config: {core: {parallelism: "32", dag_concurrency: "8"}}}
taskGroups:
  - {name: default, replicas: 2, nodeSelector: {pool: a}}
  - {name: gis, replicas: 1, tolerations: [{key: gpu, operator: Exists}]}
`
	for name, full := range map[string]string{
		"same":                 base,
		"changed":              strings.NewReplacer(`"32"`, `"64"`, "replicas: 2", "replicas: 5", "pool: a", "pool: b").Replace(base),
		"removed key":          strings.Replace(base, `, dag_concurrency: "8"`, "", 1),
		"removed group":        strings.Replace(base, "  - {name: gis, replicas: 1, tolerations: [{key: gpu, operator: Exists}]}\n", "", 1),
		"added group and list": strings.Replace(base, "operator: Exists}]}", "operator: Exists}, {key: fortran, operator: Exists}]}\n  - {name: fortran}", 1),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := load.Load(load.Input{Name: "a.yaml", Data: []byte(base)})
			if err != nil {
				t.Fatal(err)
			}
			b, err := load.Load(load.Input{Name: "b.yaml", Data: []byte(full)})
			if err != nil {
				t.Fatal(err)
			}
			overlay, err := overlayYAML(a.Release, b.Release, "b.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRelease([]byte(base), overlay, []byte(full)); err != nil {
				t.Errorf("%v; overlay:\n%s", err, overlay)
			}
			if name == "same" && strings.Contains(string(overlay), "\n") && strings.TrimSpace(strings.SplitN(string(overlay), "\n", 3)[2]) != "{}" {
				t.Errorf("no difference, yet the overlay holds:\n%s", overlay)
			}
		})
	}
}
