// Package golden is airkube's one golden-file helper (after helm's internal/test): a
// package-level -update flag, files under testdata/ or tests/golden/, CRLF normalised,
// differences reported as (-want +got). Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "update golden files")

// Updating tells whether this run rewrites golden files.
func Updating() bool { return *update }

// Read returns the golden file at path with CRLF normalised. Under -update it first
// writes got there; an empty got removes the file, so a case that stops producing
// output stops having a golden file too.
func Read(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	got = normalize(got)
	if *update {
		var err error
		if len(got) == 0 {
			err = os.Remove(path)
			if os.IsNotExist(err) {
				err = nil
			}
		} else {
			err = os.WriteFile(path, got, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil && !(os.IsNotExist(err) && len(got) == 0) {
		t.Fatalf("reading golden file (go test -update writes it): %v", err)
	}
	return normalize(data)
}

// Check compares got, as text, with the golden file at path.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	want := Read(t, path, got)
	if d := cmp.Diff(string(want), string(normalize(got))); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

func normalize(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// Case is one golden release case: a folder under tests/golden with its own spec.yaml,
// or a case.yaml naming a spec and overlays of the repository (so the shipped examples
// are what is tested).
type Case struct {
	Name string
	Dir  string
	// Spec and Overlays are paths relative to the working directory.
	Spec     string   `json:"spec"`
	Overlays []string `json:"overlays"`
}

// Cases lists the cases under dir (e.g. ../tests/golden), whose case.yaml paths are
// relative to root (the repository).
func Cases(t testing.TB, dir, root string) []Case {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	var out []Case
	for _, d := range dirs {
		c := Case{Name: filepath.Base(d), Dir: d, Spec: filepath.Join(d, "spec.yaml")}
		if data, err := os.ReadFile(filepath.Join(d, "case.yaml")); err == nil {
			if err := yaml.UnmarshalStrict(data, &c); err != nil {
				t.Fatalf("%s/case.yaml: %v", d, err)
			}
			c.Spec = filepath.Join(root, c.Spec)
			for i, o := range c.Overlays {
				c.Overlays[i] = filepath.Join(root, o)
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("no golden cases under %s", dir)
	}
	return out
}
