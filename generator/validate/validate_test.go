package validate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/render"
	"github.com/airkube/airkube/generator/validate"
)

// weatherETL is the project's example spec; it must stay valid and quiet.
const weatherETL = "../../values/weather-etl.yaml"

// check runs a spec file through render.Check, as the CLI's check does.
func check(t *testing.T, spec string) diag.List {
	t.Helper()
	problems, err := render.Check(spec)
	if err != nil {
		t.Fatalf("Check(%s): %v", spec, err)
	}
	return problems
}

func lines(l diag.List) string {
	if len(l) == 0 {
		return ""
	}
	return l.Error() + "\n"
}

// TestInvalidSpecs runs every testdata/invalid-<case>.yaml and compares all its errors
// with invalid-<case>.err.
func TestInvalidSpecs(t *testing.T) {
	specs, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 40 {
		t.Fatalf("found %d invalid specs in testdata, want the whole corpus (40+)", len(specs))
	}
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(spec), ".yaml")
		t.Run(name, func(t *testing.T) {
			errs := check(t, spec).Errors()
			if len(errs) == 0 {
				t.Fatalf("%s: no errors, want at least one", spec)
			}
			// Every error names the file as given; all but a file without any
			// document also name the line.
			for _, p := range errs {
				if p.File != spec {
					t.Errorf("%q: file %q, want %q", p, p.File, spec)
				}
				if p.Line < 1 && !strings.HasPrefix(p.Message, "empty document") {
					t.Errorf("%q: no line number", p)
				}
			}
			checkGolden(t, strings.TrimSuffix(spec, ".yaml")+".err", lines(errs))
		})
	}
}

// TestGoldenFilesHaveSpecs catches .err and .warn files left behind by a renamed or
// deleted case (the golden helper only sees cases that exist).
func TestGoldenFilesHaveSpecs(t *testing.T) {
	for _, pattern := range []string{"testdata/*.err", "testdata/*.warn"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			spec := strings.TrimSuffix(f, filepath.Ext(f)) + ".yaml"
			if _, err := os.Stat(spec); err != nil {
				t.Errorf("%s has no spec %s", f, spec)
			}
		}
	}
}

// TestValidSpecs requires no errors of every valid-<case>.yaml; its warnings, if any,
// are in valid-<case>.warn.
func TestValidSpecs(t *testing.T) {
	specs, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 5 {
		t.Fatalf("found %d valid specs in testdata, want the whole corpus (5+)", len(specs))
	}
	for _, spec := range append(specs, weatherETL) {
		name := strings.TrimSuffix(filepath.Base(spec), ".yaml")
		t.Run(name, func(t *testing.T) {
			problems := check(t, spec)
			if errs := problems.Errors(); len(errs) > 0 {
				t.Fatalf("%s: want no errors, got:\n%v", spec, errs)
			}
			if spec == weatherETL {
				if w := problems.Warnings(); len(w) > 0 {
					t.Fatalf("%s: want no warnings, got:\n%v", spec, w)
				}
				return
			}
			checkGolden(t, strings.TrimSuffix(spec, ".yaml")+".warn", lines(problems.Warnings()))
		})
	}
}

// TestAllProblemsAtOnce: a spec with many different mistakes gets each of them, from
// the version check to the last task group, in one pass.
func TestAllProblemsAtOnce(t *testing.T) {
	errs := check(t, "testdata/invalid-many.yaml").Errors()
	paths := map[string]bool{}
	for _, p := range errs {
		paths[p.Path] = true
	}
	for _, want := range []string{
		"metadata.name", "airflow.config.core.executor", "broker", "database.user",
		"database.sslMode", "storage.dags", "kubernetesAPI.verifySSL",
		"taskGroups[0] (default).autoscaling.minReplicas", "taskGroups[1] (default).name", "taskGroups[1] (default).executor",
	} {
		if !paths[want] {
			t.Errorf("no problem at %s; got:\n%v", want, errs)
		}
	}
}

// TestStyleExample pins the message STYLE.md quotes for a task group's executor typo, which also
// names the group.
func TestStyleExample(t *testing.T) {
	const spec = "testdata/invalid-group-executor.yaml"
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(spec) + `:\d+: taskGroups\[2\] \(fortran\)\.executor: "KubernetesExcutor" is not one of the release's executors \(CeleryExecutor, KubernetesExecutor\)$`)
	for _, p := range check(t, spec).Errors() {
		if want.MatchString(p.String()) {
			return
		}
	}
	t.Errorf("no problem matches %s", want)
}

// TestWarnings: warnings do not stop a render and say what would be right.
func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		spec, path, message string
	}{
		{"testdata/valid-warnings-config.yaml", "airflow.config.core.parallelizm", "closest valid key: core.parallelism"},
		{"testdata/valid-warnings-config.yaml", "airflow.config.scheduler.running_metrics_interval", "deprecated in Airflow 3.3; use scheduler.ti_metrics_interval"},
		{"testdata/valid-warnings-prerelease.yaml", "airflow.config.core.dags_foldr", "closest valid key: core.dags_folder, which airkube sets from storage.dags.mountPath"},
		{"testdata/valid-warnings-insecure-tls.yaml", "kubernetesAPI.verifySSL", "TLS checks of the Kubernetes API are off"},
	} {
		problems := check(t, tc.spec)
		if errs := problems.Errors(); len(errs) > 0 {
			t.Errorf("%s: want no errors, got:\n%v", tc.spec, errs)
		}
		found := false
		for _, p := range problems.Warnings() {
			if p.Path == tc.path && strings.Contains(p.Message, tc.message) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no warning at %s containing %q; got:\n%v", tc.spec, tc.path, tc.message, problems.Warnings())
		}
	}
}

// TestRenderRefusesInvalid: render.Inputs returns the same problems Check reports (errors with the
// warnings beside them), and renders a spec whose only problems are warnings.
func TestRenderRefusesInvalid(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		valid bool
	}{
		{"testdata/invalid-group-executor.yaml", false},
		{"testdata/invalid-two-dag-sources.yaml", false},
		{"testdata/valid-warnings-insecure-tls.yaml", true},
	} {
		data, err := os.ReadFile(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		res, err := render.Inputs(load.Input{Name: tc.spec, Data: data})
		if tc.valid {
			if err != nil {
				t.Errorf("%s: %v", tc.spec, err)
			} else if len(res.Warnings) == 0 {
				t.Errorf("%s: rendered without its warnings", tc.spec)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: rendered, want the spec's errors", tc.spec)
			continue
		}
		if d := cmp.Diff(check(t, tc.spec).Error(), err.Error()); d != "" {
			t.Errorf("%s: render error differs from Check (-want +got):\n%s", tc.spec, d)
		}
	}
}

// TestLocatorPlacesEveryProblem: Validate asks the Locator for each problem's own path,
// so a problem never borrows another field's place.
func TestLocatorPlacesEveryProblem(t *testing.T) {
	rel := &v1alpha1.AirflowRelease{
		APIVersion: "v1",
		Kind:       v1alpha1.Kind,
		Metadata:   v1alpha1.Metadata{Name: "demo"},
		Executor:   "CeleryExecutor",
		Database:   v1alpha1.Database{Type: "postgres"},
	}
	v1alpha1.SetDefaults(rel)
	asked := map[string]int{}
	n := 0
	problems := validate.Validate(rel, func(path string) diag.Location {
		n++
		asked[path] = n
		return diag.Location{File: path, Line: n}
	})
	if len(problems) < 5 {
		t.Fatalf("want 5+ problems (apiVersion, namespace, database, broker), got:\n%v", problems)
	}
	for _, p := range problems {
		if p.File != p.Path || asked[p.Path] == 0 {
			t.Errorf("%q: located as %s, want the place of its own path %s", p, p.File, p.Path)
		}
	}
}

// TestDeterministic: the same spec gives the same problems in the same order; the
// checks walk Go maps, whose order changes from run to run.
func TestDeterministic(t *testing.T) {
	for _, spec := range []string{"testdata/invalid-many.yaml", "testdata/invalid-database-missing.yaml", "testdata/invalid-connection-secret-with-host.yaml"} {
		first := check(t, spec).Error()
		for i := 0; i < 20; i++ {
			if d := cmp.Diff(first, check(t, spec).Error()); d != "" {
				t.Fatalf("%s: run %d differs (-first +now):\n%s", spec, i, d)
			}
		}
	}
}
