package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLogRetentionCommand runs the rendered log-retention CronJob's exact command (bash and GNU
// find, as in the Airflow image) on a tree of old, new, nested and symlinked files: only old files
// go, then folders that stayed empty, and nothing a symlink points to outside the log root.
func TestLogRetentionCommand(t *testing.T) {
	var args []string
	for _, c := range cases(t) {
		if c.Name != "overlay-production" {
			continue
		}
		for _, j := range parseRelease(t, c).cronJobs {
			args = j.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
		}
	}
	if len(args) != 6 || args[0] != "bash" {
		t.Fatalf("the weather release's log retention args are %q, want bash -c SCRIPT NAME ROOT MINUTES", args)
	}
	days, err := strconv.Atoi(args[5])
	if err != nil || days != 30*24*60 {
		t.Fatalf("retention minutes %q, want 30 days (43200)", args[5])
	}

	dir := t.TempDir()
	root, outside := filepath.Join(dir, "logs"), filepath.Join(dir, "outside")
	old := time.Now().Add(-40 * 24 * time.Hour)
	file := func(path string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("log\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	file(filepath.Join(root, "dag_id=a/run_id=r1/task_id=t/attempt=1.log"), old)
	file(filepath.Join(root, "dag_id=a/run_id=r2/task_id=t/attempt=1.log"), time.Now())
	file(filepath.Join(root, "dag_id=a/run_id=r3/task_id=t/attempt=1.log"), old)
	file(filepath.Join(root, "dag_id=a/run_id=r3/task_id=u/attempt=1.log"), time.Now())
	file(filepath.Join(root, "scheduler/2024-01-01/old.py.log"), old)
	file(filepath.Join(outside, "precious.log"), old)
	file(filepath.Join(outside, "dir/precious.log"), old)
	// Symlinks out of the root, to a file and to a folder of old files.
	if err := os.Symlink(filepath.Join(outside, "precious.log"), filepath.Join(root, "link.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "scheduler/latest")); err != nil {
		t.Fatal(err)
	}
	// A folder that has stayed empty, and the folders the old files are in, made long ago.
	if err := os.MkdirAll(filepath.Join(root, "dag_id=gone/run_id=x"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"dag_id=gone/run_id=x", "dag_id=gone", "scheduler/2024-01-01", "dag_id=a/run_id=r1/task_id=t", "dag_id=a/run_id=r1"} {
		if err := os.Chtimes(filepath.Join(root, d), old, old); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(args[0], args[1], args[2], args[3], root, args[5])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", args, err, out)
	}
	t.Logf("log retention printed:\n%s", out)

	var left []string
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !info.IsDir() {
			left = append(left, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(left)
	// Old files went; folders they left go on a later run (the folder changed just now), except
	// those empty for long; new files, links and what links point to stay.
	want := []string{
		"logs/dag_id=a/run_id=r2/task_id=t/attempt=1.log",
		"logs/dag_id=a/run_id=r3/task_id=u/attempt=1.log",
		"logs/link.log",
		"logs/scheduler/latest",
		"outside/dir/precious.log",
		"outside/precious.log",
	}
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("files after log retention (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(root, "dag_id=gone")); !os.IsNotExist(err) {
		t.Errorf("a folder empty for 40 days is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "dag_id=a/run_id=r1/task_id=t")); err != nil {
		t.Errorf("a folder emptied by this run went at once (a task may be about to write there): %v", err)
	}
}
