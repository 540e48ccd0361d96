package model

import "testing"

// TestKEDAHost: KEDA's operator resolves names from its own namespace, so a database host that is a
// Service of the release's namespace (one label) is qualified with it; other names stay as written.
func TestKEDAHost(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"postgres", "postgres.airflow.svc"},
		{"postgres.databases", "postgres.databases"},
		{"pg.example.com", "pg.example.com"},
		{"10.0.0.7", "10.0.0.7"},
		{"fd00::7", "fd00::7"},
	} {
		if got := kedaHost(tc.host, "airflow"); got != tc.want {
			t.Errorf("kedaHost(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}
