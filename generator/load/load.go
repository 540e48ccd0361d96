package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
)

// Input is one named YAML document: a spec or an overlay.
type Input struct {
	Name string
	Data []byte
}

// Result is a loaded spec: the decoded release and where each field was written.
type Result struct {
	Release *v1alpha1.AirflowRelease
	Index   Index
	// Partial is set when Load also returned problems: the release lacks the fields they name.
	// It may be validated (to report everything at once) but never rendered.
	Partial bool
}

// Index maps a field path (e.g. "taskGroups[2].executor") to where its value was written.
type Index map[string]diag.Location

// Locate returns where path was written, falling back to its nearest written parent,
// so a problem about a defaulted field still points at the object that lacks it.
func (ix Index) Locate(path string) diag.Location {
	for p := path; p != ""; p = parent(p) {
		if loc, ok := ix[p]; ok {
			return loc
		}
	}
	return ix[""]
}

var lastSegment = regexp.MustCompile(`(\.[^.\[]+|\[\d+\])$`)

// parent drops path's last segment; a top-level field's parent is the document ("").
// (Without the fallback, Locate of an unwritten top-level field never ended.)
func parent(path string) string {
	if p := lastSegment.ReplaceAllString(path, ""); p != path {
		return p
	}
	return ""
}

// Files reads the spec and overlays from disk (see ReadFile) and loads them.
func Files(spec string, overlays []string) (*Result, error) {
	var inputs []Input
	for i, p := range append([]string{spec}, overlays...) {
		in, err := ReadFile(p, i > 0)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}
	return Load(inputs[0], inputs[1:]...)
}

// ReadFile reads one input. An overlay path may be a file or a folder; a folder's
// overlay is its overlay.yaml.
func ReadFile(path string, overlay bool) (Input, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() && overlay {
		path = filepath.Join(path, "overlay.yaml")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Input{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return Input{Name: path, Data: data}, nil
}

// Load decodes spec with overlays applied in order. The error, when not nil, is a
// diag.List holding every problem found. When the problems only concern fields that can be left
// out (an unknown field, a value of the wrong type), the Result holds the release without them
// as well, so its validation problems can be reported in the same run (see Partial).
func Load(spec Input, overlays ...Input) (*Result, error) {
	var problems diag.List
	files := map[*yaml.Node]string{}
	usable := true
	parse := func(in Input, overlay bool) *yaml.Node {
		root, err := parseDoc(in)
		if err != nil {
			problems = append(problems, *err)
			return nil
		}
		mark(root, in.Name, files)
		found, ok := checkType(root, typeOfRelease, "", in.Name, overlay)
		problems = append(problems, found...)
		usable = usable && ok
		return root
	}
	merged := parse(spec, false)
	for _, o := range overlays {
		ov := parse(o, true)
		if ov == nil {
			usable = false
		} else if merged != nil {
			problems = append(problems, mergeNode(merged, ov, "", files)...)
		}
	}
	problems.Sort()
	if merged == nil || !usable {
		return nil, problems
	}
	ix := Index{}
	index(merged, "", files, ix)
	rel, err := decode(merged, files)
	if l, ok := err.(diag.List); ok {
		l = append(problems, l...)
		l.Sort()
		return nil, l
	}
	if err != nil {
		return nil, append(problems, diag.Problem{Location: ix.Locate(""), Message: err.Error()})
	}
	res := &Result{Release: rel, Index: ix}
	if len(problems.Errors()) > 0 {
		res.Partial = true
		return res, problems
	}
	return res, nil
}

// parseDoc parses one YAML document into its top mapping node.
func parseDoc(in Input) (*yaml.Node, *diag.Problem) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(in.Data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &diag.Problem{Location: diag.Location{File: in.Name}, Message: "empty document: expected a mapping with apiVersion: " + v1alpha1.APIVersion}
		}
		return nil, syntaxProblem(in, err)
	}
	// A broken second document is reported too: ignoring it would accept a file
	// whose end the user may think is part of the spec.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &diag.Problem{Location: diag.Location{File: in.Name, Line: extra.Line}, Message: "more than one YAML document: a spec file holds exactly one"}
	case err != io.EOF:
		return nil, syntaxProblem(in, err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &diag.Problem{Location: diag.Location{File: in.Name, Line: root.Line}, Message: "expected a mapping at the top of the document, got " + kindName(root)}
	}
	return root, nil
}

var yamlError = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parserProblems are the messages of yaml.v3's parser, as opposed to its scanner. The
// parser counts lines from 0 (go-yaml/yaml#205: its errors name the line before the
// construct that failed, and none at all for line 1), so they are moved one down.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
	"found undefined tag handle":             true,
}

// syntaxProblem turns a YAML parser error into a problem at the line it names; an
// error found at the end of the input is placed on its last line.
func syntaxProblem(in Input, err error) *diag.Problem {
	p := &diag.Problem{Location: diag.Location{File: in.Name}, Message: "not valid YAML: " + err.Error()}
	if m := yamlError.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = "not valid YAML: " + m[2]
		if parserProblems[m[2]] {
			p.Line++
		}
		if last := bytes.Count(bytes.TrimRight(in.Data, "\n"), []byte("\n")) + 1; p.Line > last {
			p.Line = last
		}
	}
	return p
}

// mark records which file every node of a tree came from.
func mark(n *yaml.Node, file string, files map[*yaml.Node]string) {
	files[n] = file
	for _, c := range n.Content {
		mark(c, file, files)
	}
}

// index records the location of every field path of the merged tree.
func index(n *yaml.Node, path string, files map[*yaml.Node]string, ix Index) {
	ix[path] = diag.Location{File: files[n], Line: n.Line}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			index(n.Content[i+1], join(path, n.Content[i].Value), files, ix)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			index(c, fmt.Sprintf("%s[%d]", path, i), files, ix)
		}
	}
}

// decode turns the merged tree into the typed release. The tree was checked against
// the types already, so this uses JSON to honour Kubernetes types' own decoders
// (quantities, int-or-string).
func decode(n *yaml.Node, files map[*yaml.Node]string) (*v1alpha1.AirflowRelease, error) {
	c := &converter{files: files}
	v := c.convert(n, typeOfRelease, "")
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var rel v1alpha1.AirflowRelease
	if err := dec.Decode(&rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "null"
	}
	return fmt.Sprintf("%s %q", scalarName(n.Tag), n.Value)
}

func scalarName(tag string) string {
	switch tag {
	case "!!int":
		return "the number"
	case "!!float":
		return "the number"
	case "!!bool":
		return "the boolean"
	}
	return "the string"
}
