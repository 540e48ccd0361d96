package airflowcfg_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airkube/airkube/generator/airflowcfg"
)

// The key lists are generated from the real Airflow packages (hack/airflow); a test
// that needs one skips, saying which, only while that file is not generated yet.
func requireFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("keys", name)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		t.Skipf("keys/%s is not generated yet (hack/airflow/gen-config-keys.sh)", name)
	}
	return path
}

// readTSV reads a key file the way the README describes it: "#" lines are comments,
// fields are tab-separated.
func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, "\t"))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func forVersion(t *testing.T, version string) *airflowcfg.Keys {
	t.Helper()
	line := strings.Join(strings.SplitN(version, ".", 3)[:2], ".")
	requireFile(t, "keys-"+line+".txt")
	k, err := airflowcfg.ForVersion(version)
	if err != nil {
		t.Fatalf("ForVersion(%s): %v", version, err)
	}
	return k
}

func TestForVersion(t *testing.T) {
	for _, tc := range []struct{ version, line, key string }{
		{"2.11.2", "2.11", "webserver.web_server_port"},
		{"2.11.0", "2.11", "core.dags_folder"},
		{"3.3.2", "3.3", "api.port"},
		{"3.3.0-rc1", "3.3", "dag_processor.parsing_processes"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			k := forVersion(t, tc.version)
			if k.Line != tc.line {
				t.Errorf("Line = %q, want %q", k.Line, tc.line)
			}
			if !k.Has(tc.key) {
				t.Errorf("Has(%q) = false, want true", tc.key)
			}
			if k.Has("core.no_such_key") {
				t.Error(`Has("core.no_such_key") = true, want false`)
			}
		})
	}
	// Versions of one minor line share their keys; lines differ.
	a, b := forVersion(t, "3.3.0"), forVersion(t, "3.3.2")
	if a != b {
		t.Error("3.3.0 and 3.3.2 got different key sets, want the 3.3 line's")
	}
	if old := forVersion(t, "2.11.2"); old.Has("api.port") || !old.Has("webserver.web_server_port") {
		t.Error("2.11 has api.port or lacks webserver.web_server_port: the 3.x list was read")
	}
}

func TestForVersionUnknown(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"2.9.3", "no key list for Airflow 2.9"},
		{"3.4.0", "no key list for Airflow 3.4"},
		{"latest", `airflow version "latest" has no minor part`},
		{"3", `airflow version "3" has no minor part`},
	} {
		k, err := airflowcfg.ForVersion(tc.version)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ForVersion(%q) = %v, %v; want an error containing %q", tc.version, k, err, tc.want)
		}
	}
}

func TestLines(t *testing.T) {
	have := map[string]bool{}
	for _, l := range airflowcfg.Lines() {
		have[l] = true
	}
	for _, want := range []string{"2.11", "3.0", "3.1", "3.2", "3.3"} {
		if _, err := os.Stat(filepath.Join("keys", "keys-"+want+".txt")); os.IsNotExist(err) {
			continue // not generated yet; TestForVersion says so
		}
		if !have[want] {
			t.Errorf("Lines() = %v, missing %s", airflowcfg.Lines(), want)
		}
	}
}

// TestCheck pins the verdicts the validator turns into messages.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		version, key string
		verdict      airflowcfg.Verdict
		replacement  string
	}{
		{"3.3.2", "core.dags_folder", airflowcfg.Valid, ""},
		{"3.3.2", "CORE.Dags_Folder", airflowcfg.Valid, ""},
		{"3.3.2", "core.fernet_key_cmd", airflowcfg.Valid, ""},
		{"3.3.2", "core.fernet_key_secret", airflowcfg.Valid, ""},
		{"3.3.2", "core.dags_foldr", airflowcfg.Unknown, "core.dags_folder"},
		{"3.3.2", "core.parallelizm", airflowcfg.Unknown, "core.parallelism"},
		{"3.3.2", "celery.worker_concurency", airflowcfg.Unknown, "celery.worker_concurrency"},
		{"3.3.2", "kubernetes_executor.delete_worker_pod", airflowcfg.Unknown, "kubernetes_executor.delete_worker_pods"},
		{"3.3.2", "webserver.web_server_port", airflowcfg.Removed, "api.port"},
		{"3.3.2", "scheduler.parsing_processes", airflowcfg.Removed, "dag_processor.parsing_processes"},
		{"3.3.2", "webserver.x_frame_enabled", airflowcfg.Removed, ""},
		{"3.0.6", "scheduler.parsing_processes", airflowcfg.Removed, "dag_processor.parsing_processes"},
		{"2.11.2", "webserver.web_server_port", airflowcfg.Valid, ""},
		{"2.11.2", "scheduler.parsing_processes", airflowcfg.Valid, ""},
		{"2.11.2", "webserver.x_frame_enabled", airflowcfg.Valid, ""},
		{"2.11.2", "core.sql_alchemy_conn", airflowcfg.Deprecated, "database.sql_alchemy_conn"},
		{"2.11.2", "core.dags_foldr", airflowcfg.Unknown, "core.dags_folder"},
		{"2.11.2", "scheduler.parsing_proceses", airflowcfg.Unknown, "scheduler.parsing_processes"},
	} {
		t.Run(tc.version+"/"+tc.key, func(t *testing.T) {
			k := forVersion(t, tc.version)
			switch tc.verdict {
			case airflowcfg.Deprecated:
				requireFile(t, "deprecated-"+k.Line+".tsv")
			case airflowcfg.Removed:
				requireFile(t, "removed-3.tsv")
			}
			verdict, repl := k.Check(tc.key)
			if verdict != tc.verdict || repl != tc.replacement {
				t.Errorf("Check(%q) = %v, %q; want %v, %q", tc.key, verdict, repl, tc.verdict, tc.replacement)
			}
		})
	}
}

// TestCheckAgreesWithKeyFiles: over every line and every key in its files, Check says
// what the files say. Valid wins over Removed, Removed over Deprecated (a key Airflow 3
// renamed is an error even where 3.x still reads it as an alias), and only 3.x lines
// know Removed.
func TestCheckAgreesWithKeyFiles(t *testing.T) {
	lines := airflowcfg.Lines()
	if len(lines) == 0 {
		t.Skip("no keys/keys-*.txt generated yet")
	}
	for _, line := range lines {
		t.Run(line, func(t *testing.T) {
			k := forVersion(t, line+".0")
			valid := map[string]bool{}
			for _, f := range readTSV(t, filepath.Join("keys", "keys-"+line+".txt")) {
				valid[f[0]] = true
				if v, repl := k.Check(f[0]); v != airflowcfg.Valid {
					t.Errorf("Check(%q) = %v, %q; want Valid (keys-%s.txt)", f[0], v, repl, line)
				}
			}
			if len(valid) < 100 {
				t.Errorf("keys-%s.txt has %d keys; a real airflow.cfg has hundreds", line, len(valid))
			}
			renamed := map[string]bool{}
			if strings.HasPrefix(line, "3.") {
				for _, f := range readTSV(t, filepath.Join("keys", "removed-3.tsv")) {
					renamed[f[0]] = true
				}
			}
			if _, err := os.Stat(filepath.Join("keys", "deprecated-"+line+".tsv")); err == nil {
				for _, f := range readTSV(t, filepath.Join("keys", "deprecated-"+line+".tsv")) {
					if len(f) < 2 || valid[f[0]] || renamed[f[0]] {
						continue
					}
					if v, repl := k.Check(f[0]); v != airflowcfg.Deprecated || repl != f[1] {
						t.Errorf("Check(%q) = %v, %q; want Deprecated, %q (deprecated-%s.tsv)", f[0], v, repl, f[1], line)
					}
				}
			} else {
				t.Logf("keys/deprecated-%s.tsv is not generated yet: deprecations not checked", line)
			}
			if _, err := os.Stat(filepath.Join("keys", "removed-3.tsv")); err != nil {
				t.Logf("keys/removed-3.tsv is not generated yet: removals not checked")
				return
			}
			removed := 0
			for _, f := range readTSV(t, filepath.Join("keys", "removed-3.tsv")) {
				if valid[f[0]] {
					continue
				}
				v, repl := k.Check(f[0])
				if !strings.HasPrefix(line, "3.") {
					if v == airflowcfg.Removed {
						t.Errorf("Check(%q) = Removed on Airflow %s; removals are Airflow 3's", f[0], line)
					}
					continue
				}
				want := ""
				if len(f) > 2 && f[1] == "renamed_to" {
					want = f[2]
				}
				if v != airflowcfg.Removed || repl != want {
					t.Errorf("Check(%q) = %v, %q; want Removed, %q (removed-3.tsv)", f[0], v, repl, want)
				}
				removed++
			}
			if strings.HasPrefix(line, "3.") && removed == 0 {
				t.Errorf("no key of removed-3.tsv is Removed on Airflow %s", line)
			}
		})
	}
}

// TestClosestIsValid: the suggestion for an unknown key is always a key the version
// reads, and an exact key stays itself.
func TestClosestIsValid(t *testing.T) {
	k := forVersion(t, "3.3.2")
	for _, key := range []string{"core.dags_foldr", "x.y", "scheduler.parallelism", "webserver.something", "a", "celery.broker_url_typo"} {
		v, repl := k.Check(key)
		if v != airflowcfg.Unknown {
			t.Errorf("Check(%q) = %v, want Unknown", key, v)
			continue
		}
		if !k.Has(repl) {
			t.Errorf("Check(%q) suggests %q, which Airflow %s does not read", key, repl, k.Line)
		}
	}
}
