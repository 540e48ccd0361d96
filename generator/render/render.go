package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	basechart "github.com/airkube/airkube/chart"
	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/jsonschema"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/model"
	"github.com/airkube/airkube/generator/validate"
)

// ChartVersion is the version of every chart airkube writes; a release's content is
// told apart by its values, and its Airflow version by appVersion.
const ChartVersion = "0.1.0"

// KubeVersion is the Kubernetes versions the chart supports.
const KubeVersion = ">=1.29.0-0"

// Result is a rendered release.
type Result struct {
	Release *v1alpha1.AirflowRelease
	// Chart maps a path inside the chart folder to its bytes.
	Chart map[string][]byte
	// Manifest is every rendered object, as `helm template` prints them.
	Manifest []byte
	// Notes is NOTES.txt as `helm install` prints it after a first install.
	Notes string
	// Warnings are problems that did not stop the render.
	Warnings diag.List
}

// Name is the release's name: the chart folder and manifest file are named after it.
func (r *Result) Name() string { return r.Release.Metadata.Name }

// Files renders the spec file with its overlays applied in order.
func Files(spec string, overlays ...string) (*Result, error) {
	loaded, err := load.Files(spec, overlays)
	if err != nil {
		return nil, loadProblems(loaded, err)
	}
	return fromLoaded(loaded)
}

// Inputs renders in-memory documents (spec first, then overlays).
func Inputs(spec load.Input, overlays ...load.Input) (*Result, error) {
	loaded, err := load.Load(spec, overlays...)
	if err != nil {
		return nil, loadProblems(loaded, err)
	}
	return fromLoaded(loaded)
}

// Check loads, defaults and validates without rendering; it returns every problem.
func Check(spec string, overlays ...string) (diag.List, error) {
	_, problems, err := Release(spec, overlays...)
	return problems, err
}

// loadProblems is a failed load's error, with the validation problems of what could be loaded
// (a partial release) beside its own, so one run shows both. Problems about a field the loader
// already reported (and dropped) are left out: they would only repeat it.
func loadProblems(loaded *load.Result, err error) error {
	l, ok := err.(diag.List)
	if !ok || loaded == nil {
		return err
	}
	out := append(diag.List{}, l...)
	for _, p := range check(loaded) {
		if !reported(p.Path, l) {
			out = append(out, p)
		}
	}
	out.Sort()
	return out
}

// itemName is how validation names a list item in a path: "taskGroups[1] (fortran)".
var itemName = regexp.MustCompile(`\] \([^)]*\)`)

// reported says whether path is a field some load problem is about, or lies inside one.
func reported(path string, problems diag.List) bool {
	path = itemName.ReplaceAllString(path, "]")
	for _, p := range problems {
		if p.Path != "" && (path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[")) {
			return true
		}
	}
	return false
}

// check defaults the loaded release and returns every problem it has.
// Release loads and defaults a spec with its overlays and validates it: the release (nil when the
// files cannot be read into one) and every problem found.
func Release(spec string, overlays ...string) (*v1alpha1.AirflowRelease, diag.List, error) {
	loaded, err := load.Files(spec, overlays)
	if err != nil {
		l, ok := loadProblems(loaded, err).(diag.List)
		if !ok {
			return nil, nil, err
		}
		if loaded == nil {
			return nil, l, nil
		}
		return loaded.Release, l, nil // loadProblems validated the partial release too
	}
	return loaded.Release, check(loaded), nil
}

func check(loaded *load.Result) diag.List {
	v1alpha1.SetDefaults(loaded.Release)
	return validate.Validate(loaded.Release, loaded.Index.Locate)
}

func fromLoaded(loaded *load.Result) (*Result, error) {
	rel := loaded.Release
	problems := check(loaded)
	if err := problems.Err(); err != nil {
		return nil, problems
	}
	files, ch, err := chartFiles(rel, model.Build(rel))
	if err != nil {
		return nil, err
	}
	manifest, notes, err := templateChart(ch, rel.Metadata.Name, rel.Metadata.Namespace)
	if err != nil {
		return nil, err
	}
	return &Result{Release: rel, Chart: files, Manifest: manifest, Notes: notes, Warnings: problems.Warnings()}, nil
}

// chartFiles assembles the chart: the embedded templates plus this release's
// Chart.yaml, values.yaml and values.schema.json, as files and as the Helm chart they
// load into (built directly: parsing the YAML just written was a fifth of a render).
func chartFiles(rel *v1alpha1.AirflowRelease, values *model.Values) (map[string][]byte, *chart.Chart, error) {
	ch := &chart.Chart{Metadata: &chart.Metadata{
		APIVersion:  chart.APIVersionV2,
		Name:        rel.Metadata.Name,
		Description: fmt.Sprintf("Apache Airflow %s release %s, rendered by airkube. Edit the airkube spec, not this chart.", rel.Airflow.Version, rel.Metadata.Name),
		Type:        "application",
		Version:     ChartVersion,
		AppVersion:  rel.Airflow.Version,
		KubeVersion: KubeVersion,
		Keywords:    []string{"airflow", "airkube"},
	}}
	files := map[string][]byte{}
	err := fs.WalkDir(basechart.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(basechart.Files, p)
		files[p] = data
		if strings.HasPrefix(p, "templates/") {
			ch.Templates = append(ch.Templates, &chart.File{Name: p, Data: data})
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if files["Chart.yaml"], err = yaml.Marshal(ch.Metadata); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(values)
	if err != nil {
		return nil, nil, err
	}
	v, err := yamlFromJSON(data)
	if err != nil {
		return nil, nil, err
	}
	files["values.yaml"] = append([]byte("# Values of release "+rel.Metadata.Name+", written by airkube: change the spec and render again.\n"), v...)
	// Through JSON, as Helm reads values.yaml (sigs.k8s.io/yaml): numbers are float64.
	if err := json.Unmarshal(data, &ch.Values); err != nil {
		return nil, nil, err
	}
	if ch.Schema, err = valuesSchema(); err != nil {
		return nil, nil, err
	}
	files["values.schema.json"] = ch.Schema
	return files, ch, nil
}

// valuesSchema is values.schema.json: the same for every release, so it is made once.
var valuesSchema = sync.OnceValues(func() ([]byte, error) {
	schema, err := json.MarshalIndent(jsonschema.For(reflect.TypeOf(model.Values{}), "airkube release values"), "", "  ")
	return append(schema, '\n'), err
})

// Template renders chart files offline, as `helm template` would print them: one
// document per object, sorted in Helm's install order, each under its source comment.
// Generated secrets show a placeholder (there is no cluster to read them back from).
func Template(files map[string][]byte, name, namespace string) ([]byte, error) {
	ch, err := Load(files)
	if err != nil {
		return nil, err
	}
	manifest, _, err := templateChart(ch, name, namespace)
	return manifest, err
}

func templateChart(ch *chart.Chart, name, namespace string) ([]byte, string, error) {
	vals := chartutil.Values(ch.Values)
	caps := chartutil.DefaultCapabilities.Copy()
	// What chartutil.ToRenderValues makes, without its deep copy of the values into themselves (a
	// tenth of a render): there are no user values or subcharts to coalesce. As Helm's coalescing
	// does, a top-level null drops its key. The schema is checked by Helm at install and by the lint
	// tests; checking the values airkube itself just made would double the render time.
	dropNulls(vals)
	top := chartutil.Values{"Chart": ch.Metadata, "Capabilities": caps, "Values": vals, "Release": map[string]any{
		"Name": name, "Namespace": namespace, "IsUpgrade": false, "IsInstall": true, "Revision": 1, "Service": "airkube"}}
	out, err := engine.Render(ch, top)
	if err != nil {
		return nil, "", err
	}
	notesFile := path.Join(ch.Name(), "templates", "NOTES.txt")
	notes := out[notesFile]
	delete(out, notesFile)
	for k, v := range out {
		if strings.TrimSpace(v) == "" {
			delete(out, k)
		}
	}
	var b bytes.Buffer
	for _, m := range sortManifests(out) {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.source, strings.TrimSpace(m.content))
	}
	return b.Bytes(), notes, nil
}

// dropNulls deletes the top-level keys whose value is null, as chartutil.CoalesceValues does to a
// chart's own values (TestDropNullsAsHelm).
func dropNulls(m map[string]any) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
}

type manifest struct{ source, kind, content string }

var kindLine = regexp.MustCompile(`(?m)^kind:\s*(\S+)`)

// sortManifests orders documents as Helm installs them (releaseutil.SortManifests):
// by file, then by kind in Helm's install order, unknown kinds last by name. It reads
// only each document's kind line: parsing every document dominated render time, and
// the tests parse the output in full anyway.
func sortManifests(files map[string]string) []manifest {
	order := map[string]int{}
	for i, k := range releaseutil.InstallOrder {
		order[k] = i
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var out []manifest
	for _, p := range paths {
		for _, doc := range strings.Split("\n"+files[p], "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			m := manifest{source: p, content: doc}
			if match := kindLine.FindStringSubmatch(m.content); match != nil {
				m.kind = match[1]
			}
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := order[out[i].kind]
		b, bok := order[out[j].kind]
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return out[i].kind < out[j].kind
	})
	return out
}

// Load builds a Helm chart from in-memory files.
func Load(files map[string][]byte) (*chart.Chart, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buffered []*loader.BufferedFile
	for _, n := range names {
		buffered = append(buffered, &loader.BufferedFile{Name: n, Data: files[n]})
	}
	return loader.LoadFiles(buffered)
}
