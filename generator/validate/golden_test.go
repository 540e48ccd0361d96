package validate_test

import (
	"flag"
	"os"
	"strings"
	"testing"
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
	if d := diff(normalize(string(data)), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

func normalize(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// diff is a line diff in go-cmp's (-want +got) form: "-" lines only in want, "+" lines
// only in got, "" when equal. It stands in for cmp.Diff because go.mod does not require
// github.com/google/go-cmp (it is only an indirect dependency, so importing it would stop
// `go` from building any package until go.mod changes).
func diff(want, got string) string {
	if want == got {
		return ""
	}
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	// lcs[i][j] is the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out.WriteString("  " + a[i] + "\n")
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out.WriteString("- " + a[i] + "\n")
			i++
		default:
			out.WriteString("+ " + b[j] + "\n")
			j++
		}
	}
	return out.String()
}

func TestDiff(t *testing.T) {
	if d := diff("a\nb\n", "a\nb\n"); d != "" {
		t.Errorf("diff of equal texts = %q, want empty", d)
	}
	want := "  a\n- b\n+ c\n  \n"
	if d := diff("a\nb\n", "a\nc\n"); d != want {
		t.Errorf("diff = %q, want %q", d, want)
	}
}
