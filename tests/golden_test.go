package tests

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/airkube/airkube/internal/golden"
)

// TestGolden renders every case and compares the objects with golden/<case>/manifest.yaml.
// `go test ./tests -update` rewrites them; review the diff as the change.
func TestGolden(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			got := c.render(t).Manifest
			path := filepath.Join(c.Dir, "manifest.yaml")
			want := golden.Read(t, path, got)
			// Objects, not bytes: the YAML serializer is Helm's, not ours.
			if diff := cmp.Diff(parseManifest(t, want), parseManifest(t, got)); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestGoldenNotes compares NOTES.txt, what `helm install` prints, with golden/<case>/NOTES.txt:
// how to reach the UI and who can log in, with where each password is.
func TestGoldenNotes(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			got := []byte(c.render(t).Notes)
			path := filepath.Join(c.Dir, "NOTES.txt")
			if diff := cmp.Diff(string(golden.Read(t, path, got)), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestDeterministic renders each case ten times: every file must be byte-identical.
func TestDeterministic(t *testing.T) {
	for _, c := range cases(t) {
		first := c.render(t)
		for i := 0; i < 10; i++ {
			again := c.render(t)
			if !bytes.Equal(first.Manifest, again.Manifest) {
				t.Fatalf("%s: manifest differs between renders", c.Name)
			}
			for name, data := range first.Chart {
				if !bytes.Equal(data, again.Chart[name]) {
					t.Fatalf("%s: chart file %s differs between renders", c.Name, name)
				}
			}
		}
	}
}
