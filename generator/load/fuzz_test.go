package load_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/diag"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/validate"
)

// FuzzLoad feeds arbitrary bytes as a spec (and, when not empty, an overlay) through
// the whole front end: load, defaults, validate. Whatever the input, it must not panic
// or hang, an error must be a diag.List holding at least one error, and every problem
// must point into one of the two inputs.
func FuzzLoad(f *testing.F) {
	seed := func(pattern string) [][]byte {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		var out [][]byte
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	specs := seed("../../values/*.yaml")
	if len(specs) == 0 {
		f.Fatal("no seed specs in values/")
	}
	specs = append(specs, seed("../validate/testdata/*.yaml")...)
	specs = append(specs, []byte(base))
	for _, s := range specs {
		f.Add(s, []byte(nil))
	}
	for _, o := range seed("../../overlays/*/overlay.yaml") {
		f.Add(specs[0], o)
	}
	f.Add([]byte(base), []byte("taskGroups:\n  - {name: gis, $patch: delete}\n  - {name: new, executor: KubernetesExecutor}\nbroker: null\n"))

	f.Fuzz(func(t *testing.T, spec, overlay []byte) {
		names := map[string]bool{"spec.yaml": true}
		var overlays []load.Input
		if len(overlay) > 0 {
			overlays = append(overlays, load.Input{Name: "overlay.yaml", Data: overlay})
			names["overlay.yaml"] = true
		}
		check := func(stage string, l diag.List) {
			for _, p := range l {
				if !names[p.File] {
					t.Errorf("%s: problem %q names file %q, not an input", stage, p, p.File)
				}
			}
		}
		res, err := load.Load(load.Input{Name: "spec.yaml", Data: spec}, overlays...)
		if err != nil {
			l, ok := err.(diag.List)
			if !ok {
				t.Fatalf("Load error is a %T, want a diag.List: %v", err, err)
			}
			if len(l.Errors()) == 0 {
				t.Fatalf("Load failed without an error: %v", l)
			}
			check("load", l)
			return
		}
		if res.Release == nil {
			t.Fatal("Load returned neither a release nor an error")
		}
		v1alpha1.SetDefaults(res.Release)
		check("validate", validate.Validate(res.Release, res.Index.Locate))
	})
}
