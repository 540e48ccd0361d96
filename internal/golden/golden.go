// Package golden is airkube's one golden-file helper (after helm's internal/test): a
// package-level -update flag, files under testdata/ or tests/golden/, CRLF normalised,
// differences reported as (-want +got). Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
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
