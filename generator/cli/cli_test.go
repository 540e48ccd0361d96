package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const valid = `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: demo, namespace: airflow}
executor: LocalExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
`

func TestRenderWritesChartAndManifest(t *testing.T) {
	dir := t.TempDir()
	spec := write(t, dir, "demo.yaml", valid)
	out := filepath.Join(dir, "out")
	stdout, stderr, err := run(t, "render", "-f", spec, "--out", out)
	if err != nil {
		t.Fatalf("render: %v\n%s", err, stderr)
	}
	for _, f := range []string{"demo/Chart.yaml", "demo/values.yaml", "demo/values.schema.json", "demo/templates/workloads.yaml", "demo.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("render did not write %s: %v", f, err)
		}
	}
	if !strings.Contains(stdout, "demo.yaml") {
		t.Errorf("stdout %q does not say what was written", stdout)
	}
}

// TestInvalidSpecWritesNothing: every problem is printed with file and line, the exit is
// an error, and neither the output folder nor a previous output is touched.
func TestInvalidSpecWritesNothing(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "demo.yaml", valid)
	out := filepath.Join(dir, "out")
	if _, stderr, err := run(t, "render", "-f", good, "--out", out); err != nil {
		t.Fatalf("render: %v\n%s", err, stderr)
	}
	before, err := os.ReadFile(filepath.Join(out, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := write(t, dir, "bad.yaml", strings.Replace(valid, "executor: LocalExecutor", "executor: LocalExecuter\nextra: 1", 1))
	for _, cmd := range [][]string{{"render", "-f", bad, "--out", out}, {"validate", "-f", bad}} {
		_, stderr, err := run(t, cmd...)
		if err == nil {
			t.Fatalf("%v: want an error", cmd)
		}
		for _, want := range []string{bad + ":5: extra: unknown field \"extra\"", "nothing was written"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
	}
	after, err := os.ReadFile(filepath.Join(out, "demo.yaml"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the previous output changed after an invalid render (err %v)", err)
	}
}

func TestValidateWarnsButPasses(t *testing.T) {
	dir := t.TempDir()
	spec := write(t, dir, "k.yaml", strings.Replace(valid, "executor: LocalExecutor", "executor: KubernetesExecutor\nkubernetesAPI: {verifySSL: false, allowInsecureTLS: true}", 1))
	stdout, stderr, err := run(t, "validate", "-f", spec)
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "warning: kubernetesAPI.verifySSL") || !strings.Contains(stdout, "valid") {
		t.Errorf("want a verifySSL warning and 'valid'; stdout %q stderr %q", stdout, stderr)
	}
}

func TestSchemaIsJSONSchema(t *testing.T) {
	stdout, _, err := run(t, "schema")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	props, _ := s["properties"].(map[string]any)
	for _, field := range []string{"apiVersion", "metadata", "executor", "database", "taskGroups", "kubernetesAPI"} {
		if _, ok := props[field]; !ok {
			t.Errorf("schema lacks property %s", field)
		}
	}
}

func TestMissingFileFlag(t *testing.T) {
	if _, stderr, err := run(t, "render"); err == nil || !strings.Contains(stderr, "file") {
		t.Errorf("render without -f: err %v, stderr %q; want an error naming the flag", err, stderr)
	}
}
