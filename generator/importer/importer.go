// Package importer turns the values files of the official Apache Airflow chart (1.15 to 1.22) into an
// airkube spec, with a report that accounts for every value the files set: carried over (and where
// to), or not carried and why (not needed in airkube, not supported, or needing the user's action,
// with the command to run). Passwords written in the values never reach the spec or the report.
package importer

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
)

// Options names the release being moved.
type Options struct {
	// Release is the official chart's Helm release name; the airkube release takes it over.
	Release string
	// Namespace is the release's namespace.
	Namespace string
}

// Verdict is what became of one value.
type Verdict string

// The verdicts of the report.
const (
	Carried     Verdict = "carried"
	NotNeeded   Verdict = "not needed"
	Unsupported Verdict = "not supported"
	Action      Verdict = "your action"
)

// Line is one line of the report: a value of the files (or a chart default that mattered) and what
// became of it. Note names the spec field for Carried, else the reason and any command to run.
type Line struct {
	File    string
	Line    int
	Path    string
	Verdict Verdict
	Note    string
}

func (l Line) String() string {
	loc := l.File
	if l.Line > 0 {
		loc = fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	path := l.Path
	if l.Line == 0 {
		path += " (not set: the chart's default)"
	}
	return fmt.Sprintf("%s: %s: %s: %s", loc, path, l.Verdict, l.Note)
}

// Result is an imported spec and its report.
type Result struct {
	Release *v1alpha1.AirflowRelease
	// Spec is the spec file's text.
	Spec   []byte
	Report []Line
}

// Input is one values file: its name (for the report) and text.
type Input struct {
	Name string
	Data []byte
}

// importer holds one import: the values, the spec being built and the report.
type importer struct {
	files map[*yaml.Node]string
	first string
	opt   Options
	root  value
	major int // Airflow's major version: 2 or 3
	spec  v1alpha1.AirflowRelease
	lines []Line
	bad   diag.List
	// scalingDecided marks the groups whose autoscaling a more specific worker source decided.
	scalingDecided map[string]bool
	// fullname is the official chart's object prefix (airflow.fullname): its Secrets and claims are
	// named after it.
	fullname string
}

// Import reads official-chart values files, later ones over earlier ones as `helm -f a -f b` merges
// them (mappings merged key by key, anything else replaced). Problems that leave no faithful spec
// (the chart's bundled database, an Airflow version airkube does not run, a file that is not a values
// mapping) are returned as a diag.List naming the file, line and value; then there is no spec.
func Import(inputs []Input, opt Options) (*Result, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no values file")
	}
	files := map[*yaml.Node]string{}
	var root *yaml.Node
	for _, in := range inputs {
		var doc yaml.Node
		if err := yaml.Unmarshal(in.Data, &doc); err != nil {
			return nil, diag.List{{Location: diag.Location{File: in.Name}, Message: fmt.Sprintf("not YAML: %v", err)}}
		}
		if len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue
		}
		if n.Kind != yaml.MappingNode {
			return nil, diag.List{{Location: diag.Location{File: in.Name, Line: n.Line}, Message: "an official chart values file is a mapping of keys (executor:, workers:, ...)"}}
		}
		markFile(n, in.Name, files)
		root = mergeValues(root, n)
	}
	if opt.Release == "" {
		opt.Release = "airflow"
	}
	if opt.Namespace == "" {
		opt.Namespace = "airflow"
	}
	im := &importer{files: files, first: inputs[0].Name, opt: opt, root: value{node: root}, scalingDecided: map[string]bool{}}
	im.fullname = fullname(opt.Release, im.root)
	im.build()
	if len(im.bad) > 0 {
		im.bad.Sort()
		return nil, im.bad
	}
	im.sweep()
	order := map[string]int{}
	var names []string
	for i, in := range inputs {
		order[in.Name] = i
		names = append(names, in.Name)
	}
	sort.SliceStable(im.lines, func(i, j int) bool {
		a, b := im.lines[i], im.lines[j]
		if a.File != b.File {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line
	})
	text, err := specYAML(&im.spec, strings.Join(names, ", "))
	if err != nil {
		return nil, err
	}
	return &Result{Release: &im.spec, Spec: text, Report: im.lines}, nil
}

// markFile records the file every node of n was read from.
func markFile(n *yaml.Node, file string, files map[*yaml.Node]string) {
	files[n] = file
	for _, c := range n.Content {
		markFile(c, file, files)
	}
}

// mergeValues is over on top of base, as Helm merges values files.
func mergeValues(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: base.Tag, Line: base.Line, Column: base.Column}
	out.Content = append(out.Content, base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		found := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = mergeValues(out.Content[j+1], v)
				found = true
			}
		}
		if !found {
			out.Content = append(out.Content, k, v)
		}
	}
	return out
}

// fileOf is the file v was written in; a value no file sets (a chart default) is the first file's.
func (im *importer) fileOf(v value) string {
	if f, ok := im.files[v.node]; ok {
		return f
	}
	return im.first
}

// fullname is the official chart's airflow.fullname for the release.
func fullname(release string, root value) string {
	if !root.get("useStandardNaming").on(false) {
		return release
	}
	if o := root.get("fullnameOverride").str(); o != "" {
		return strings.TrimSuffix(trunc(o, 63), "-")
	}
	name := "airflow"
	if o := root.get("nameOverride").str(); o != "" {
		name = o
	}
	if strings.Contains(release, name) {
		return strings.TrimSuffix(trunc(release, 63), "-")
	}
	return strings.TrimSuffix(trunc(release+"-"+name, 63), "-")
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// report adds a line for v (which may be unset: then the line is about a chart default).
func (im *importer) report(v value, verdict Verdict, format string, args ...any) {
	im.lines = append(im.lines, Line{File: im.fileOf(v), Line: v.line(), Path: v.path, Verdict: verdict, Note: fmt.Sprintf(format, args...)})
}

// carried reports that v went to field; a value carried to several fields (the workers' resources to
// every group) gets one line naming them all.
func (im *importer) carried(v value, field string) {
	if !v.set() {
		return
	}
	for i := range im.lines {
		if l := &im.lines[i]; l.Path == v.path && l.Verdict == Carried && strings.HasPrefix(l.Note, "to ") {
			if !strings.Contains(l.Note, field) {
				l.Note += ", " + field
			}
			return
		}
	}
	im.report(v, Carried, "to %s", field)
}

// each reports every set value among vs with the same verdict and note, once: the workers' values are
// read for every group that inherits them.
func (im *importer) each(verdict Verdict, note string, vs ...value) {
	for _, v := range vs {
		if v.set() && !im.reportedAt(v.path) {
			im.report(v, verdict, "%s", note)
		}
	}
}

func (im *importer) reportedAt(path string) bool {
	for _, l := range im.lines {
		if l.Path == path {
			return true
		}
	}
	return false
}

func (im *importer) fail(v value, format string, args ...any) {
	im.bad = append(im.bad, diag.Problem{Location: diag.Location{File: im.fileOf(v), Line: v.line()}, Path: v.path, Message: fmt.Sprintf(format, args...)})
}

// sweep accounts for every value the files set that no handler reported: its top-level key's
// reason, or, for a key no official chart has, that airkube does not know it.
func (im *importer) sweep() {
	var reported []string
	for _, l := range im.lines {
		reported = append(reported, l.Path)
	}
	covered := func(path string) bool {
		for _, p := range reported {
			if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
				return true
			}
		}
		return false
	}
	for _, key := range im.root.keys() {
		rule, known := topLevel[key]
		for _, leaf := range im.root.get(key).leaves() {
			if covered(leaf.path) || !leaf.set() {
				continue
			}
			if !known {
				im.report(leaf, Unsupported, "not a value of the official chart 1.15 to 1.22; airkube does not know what it did")
				continue
			}
			im.report(leaf, rule.verdict, "%s", rule.why)
		}
	}
}

// versionRE finds the Airflow version at the start of an image tag ("2.11.0-python3.12").
var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`)

// specYAML writes the spec with a header, in the field order of the spec's types.
func specYAML(r *v1alpha1.AirflowRelease, from string) ([]byte, error) {
	n, err := orderedNode(r)
	if err != nil {
		return nil, err
	}
	n.HeadComment = "Imported by `airkube import` from " + from + " (official Airflow chart values).\n" +
		"Its report says what was carried, what was not and why, and what to do before installing."
	return encodeNode(n)
}
