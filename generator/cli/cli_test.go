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

// TestImportWritesSpecAndReport: import writes the spec (to -o, or stdout) and one report line per
// value on stderr, with the password's Secret command but never the password; the spec renders.
func TestImportWritesSpecAndReport(t *testing.T) {
	dir := t.TempDir()
	values := write(t, dir, "values.yaml", `airflowVersion: "3.3.2"
executor: CeleryExecutor
postgresql: {enabled: false}
data:
  metadataConnection: {user: app, pass: "hunter2!x", host: pg.example.com, db: airflow}
workers: {replicas: 3}
`)
	spec := filepath.Join(dir, "spec.yaml")
	stdout, stderr, err := run(t, "import", "-f", values, "-o", spec, "--release", "wx", "--namespace", "etl")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "wrote "+spec) {
		t.Errorf("stdout %q does not say what was written", stdout)
	}
	for _, want := range []string{
		values + ":6: workers.replicas: carried: to taskGroups[default].replicas",
		"kubectl -n etl create secret generic wx-database --from-file=password=/dev/stdin",
		"need your action",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the report lacks %q:\n%s", want, stderr)
		}
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data)+stderr, "hunter2") {
		t.Errorf("the password reached the spec or the report")
	}
	if _, stderr, err := run(t, "render", "-f", spec, "--out", filepath.Join(dir, "out")); err != nil {
		t.Fatalf("the imported spec does not render: %v\n%s", err, stderr)
	}
	if stdout, _, err := run(t, "import", "-f", values); err != nil || !strings.HasPrefix(stdout, "# Imported by `airkube import`") {
		t.Errorf("without -o the spec goes to stdout: %v\n%s", err, stdout)
	}
}

// TestImportEnvWritesOverlays: --env NAME=FILE writes DIR/NAME/overlay.yaml beside the spec, and the
// spec renders with it; a bad environment file, or --env without -o, writes nothing at all.
func TestImportEnvWritesOverlays(t *testing.T) {
	dir := t.TempDir()
	values := write(t, dir, "values.yaml", `airflowVersion: "3.3.2"
executor: CeleryExecutor
postgresql: {enabled: false}
data:
  metadataConnection: {user: app, host: pg.example.com, db: airflow}
workers: {replicas: 1}
`)
	prod := write(t, dir, "values-prod.yaml", "workers: {replicas: 6}\nscheduler: {replicas: 2}\n")
	spec, overlays := filepath.Join(dir, "spec.yaml"), filepath.Join(dir, "overlays")
	stdout, stderr, err := run(t, "import", "-f", values, "--env", "prod="+prod, "-o", spec, "--overlays", overlays)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	overlay := filepath.Join(overlays, "prod", "overlay.yaml")
	if !strings.Contains(stdout, "wrote "+overlay) || !strings.Contains(stderr, prod+":1: workers.replicas: carried: to taskGroups[default].replicas") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, err := run(t, "render", "-f", spec, "--overlay", filepath.Join(overlays, "prod"), "--out", out); err != nil {
		t.Fatalf("the spec does not render with the overlay: %v\n%s", err, stderr)
	}
	values2 := filepath.Join(out, "wx", "values.yaml")
	if data, err := os.ReadFile(values2); err == nil && !strings.Contains(string(data), "replicas: 6") {
		t.Errorf("the rendered values lack the overlay's replicas:\n%s", data)
	}

	again := filepath.Join(dir, "again")
	bad := write(t, dir, "values-bad.yaml", "airflowVersion: \"2.9.3\"\n")
	for args, want := range map[*[]string]string{
		{"import", "-f", values, "--env", "prod=" + prod, "--env", "bad=" + bad, "-o", filepath.Join(again, "spec.yaml"), "--overlays", again}: bad + ":1: airflowVersion: Airflow 2.9.3",
		{"import", "-f", values, "--env", "prod=" + prod}:                                  "--env writes overlays beside a spec file: give -o SPEC too",
		{"import", "-f", values, "--env", "prod", "-o", filepath.Join(again, "spec.yaml")}: `--env "prod": give NAME=VALUES`,
	} {
		if _, stderr, err := run(t, *args...); err == nil || !strings.Contains(stderr, want) {
			t.Errorf("%v: err %v, stderr:\n%s\nwant %q", *args, err, stderr, want)
		}
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("a failed import wrote %s: %v", again, err)
	}
}

// TestImportBadValuesWritesNothing: values airkube cannot take over give the file, line and value,
// and no spec file.
func TestImportBadValuesWritesNothing(t *testing.T) {
	dir := t.TempDir()
	values := write(t, dir, "values.yaml", "airflowVersion: \"2.9.3\"\ndata: {metadataSecretName: db}\n")
	spec := filepath.Join(dir, "spec.yaml")
	_, stderr, err := run(t, "import", "-f", values, "-o", spec)
	if err == nil {
		t.Fatal("import of Airflow 2.9 succeeded")
	}
	if !strings.Contains(stderr, values+":1: airflowVersion: Airflow 2.9.3: airkube runs 2.11.x and 3.0 to 3.3") || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if _, err := os.Stat(spec); !os.IsNotExist(err) {
		t.Errorf("a spec was written: %v", err)
	}
}

// TestUpgradeCheck: the notes of a 2.11 to 3.3 move on stdout; a downgrade exits 1.
func TestUpgradeCheck(t *testing.T) {
	dir := t.TempDir()
	old := strings.Replace(valid, "executor: LocalExecutor", "airflow: {version: \"2.11.2\"}\nexecutor: LocalExecutor", 1)
	from := write(t, dir, "old.yaml", old)
	to := write(t, dir, "new.yaml", strings.Replace(old, "2.11.2", "3.3.2", 1))
	stdout, stderr, err := run(t, "upgrade-check", "--from", from, "-f", to)
	if err != nil || !strings.Contains(stdout, "change: the webserver becomes the api-server") {
		t.Errorf("upgrade-check 2.11 -> 3.3: %v\n%s%s", err, stdout, stderr)
	}
	stdout, stderr, err = run(t, "upgrade-check", "--from", to, "-f", from)
	if err == nil || !strings.Contains(stdout, "error: Airflow 3.3.2 to 2.11.2 is a downgrade") || !strings.Contains(stderr, "cannot go ahead") {
		t.Errorf("upgrade-check 3.3 -> 2.11: %v\n%s%s", err, stdout, stderr)
	}
}
