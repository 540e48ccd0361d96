package validate_test

import (
	"testing"

	"github.com/airkube/airkube/internal/golden"
)

// checkGolden compares got with the golden file at path (go test -update rewrites it;
// an empty got removes it).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, []byte(got))
}
