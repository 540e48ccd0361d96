package validate_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "update golden files")

// golden compares got with the golden file at path, or rewrites the file under -update.
// An empty got with -update removes the file, so a case that stops producing output
// stops having a golden file too.
func golden(t *testing.T, path, got string) {
	t.Helper()
	got = normalize(got)
	if *update {
		if got == "" {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil && !(os.IsNotExist(err) && got == "") {
		t.Fatalf("reading golden file (go test -update writes it): %v", err)
	}
	if d := cmp.Diff(normalize(string(data)), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

func normalize(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
