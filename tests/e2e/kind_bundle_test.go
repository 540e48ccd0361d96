//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/render"
)

// gitToken is the private repository's access token: the server asks for it, the release has it
// only as a git connection in a Secret.
const gitToken = "gh0-t0ken:with/odd%chars"

// gitBundleOverlay moves the weather release's DAGs from the NAS to the git server's repository, as
// Airflow 3's GitDagBundle, with the token as the weather_git connection from the weather-git Secret.
const gitBundleOverlay = `
airflow:
  connections:
    - {id: grib_archive, secret: {name: weather-connections, key: grib_archive}}
    - {id: weather_git, secret: {name: weather-git, key: connection}}
storage:
  dags:
    existingClaim: null
    git: {repo: "http://git-server.airflow:8000/dags.git", subPath: dags, connId: weather_git}
`

// assertNewDAGOnNAS drops a new DAG file on the NAS's DAG folder, as a user copies one to the share,
// and measures how long it takes to appear in Airflow (airkube's refresh_interval: 30 s).
func assertNewDAGOnNAS(t *testing.T) {
	t.Helper()
	dag := "airkube_e2e_new_" + strings.ToLower(runSuffix)
	src := newDAGFile(dag)
	file := filepath.Join(nasDir(t), "dags", dag+".py")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	figure(t, "kind new DAG file on the NAS until Airflow lists it", waitDAG(t, dag, "", time.Now()))
}

// newDAGFile is the source of a DAG with no tasks, as a user's first file is.
func newDAGFile(dagID string) string {
	return "from datetime import datetime\nfrom airflow.sdk import DAG\n\ndag = DAG(dag_id=\"" + dagID +
		"\", start_date=datetime(2024, 1, 1), schedule=None)\n"
}

// waitDAG waits until the dag-processor has stored dag (from the given bundle version, when one is
// given) and returns the time since start.
func waitDAG(t *testing.T, dag, version string, start time.Time) time.Duration {
	t.Helper()
	query := "SELECT count(*) FROM dag_version WHERE dag_id = '" + dag + "'"
	if version != "" {
		query += " AND bundle_version = '" + version + "'"
	}
	if err := poll(5*time.Minute, func() (bool, error) {
		return psql(t, "airflow", query)[0][0] != "0", nil
	}); err != nil {
		t.Fatalf("DAG %s (version %q) not parsed: %v", dag, version, err)
	}
	// How long it took is a figure the caller prints, not a check: the machines are shared and noisy.
	// That Airflow looks every 30 s is the release's config (model's cfgDefaults, TestCfgDefaults).
	return time.Since(start)
}

// assertGitBundle moves the running weather release to a git DAG bundle served by a private git
// server pod, and shows: the DAGs come from the repository with the token from a Secret; a pushed
// commit reaches the Celery worker and the KubernetesExecutor pod, each running the commit its DAG
// run was parsed from; a new DAG pushed appears within a minute; a change to the bundle's settings
// rolls only the pods that read it.
func assertGitBundle(t *testing.T, res *render.Result, spec, kindOverlay string) *render.Result {
	t.Helper()
	const name = "weather-etl"
	conn, _ := json.Marshal(map[string]string{"conn_type": "git", "login": "airflow", "password": gitToken})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "weather-git"},
		StringData: map[string]string{"token": gitToken, "connection": string(conn)}}
	script, err := os.ReadFile(filepath.Join("testdata", "git", "git_http.py"))
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "git-server"}, Data: map[string]string{"git_http.py": string(script)}}
	server, err := os.ReadFile(filepath.Join("testdata", "git", "server.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	server = []byte(strings.ReplaceAll(string(server), "IMAGE", res.Release.Airflow.Image))
	gitPod := startServer(t, "git-server", server, secret, cm)
	// The repository is private: without the token, git gets no further than the challenge.
	if out, err := execIn(kindNS, gitPod, "git", "sh", "-c", "GIT_TERMINAL_PROMPT=0 git ls-remote http://127.0.0.1:8000/dags.git 2>&1"); err == nil {
		t.Fatalf("the repository answered without credentials:\n%s", out)
	}

	dagSrc, err := os.ReadFile(filepath.Join("testdata", "git", "airkube_e2e_bundle.py"))
	if err != nil {
		t.Fatal(err)
	}
	// push commits files (path: content) to the repository's main branch, as a developer's push
	// does, and returns the commit.
	push := func(files map[string]string, message string) string {
		t.Helper()
		var sh strings.Builder
		sh.WriteString(`set -e; cd /tmp; [ -d work ] || git clone -q /srv/dags.git work; cd work
git config user.name e2e; git config user.email e2e@example.com; mkdir -p dags
`)
		for path, content := range files {
			sh.WriteString("echo " + base64.StdEncoding.EncodeToString([]byte(content)) + " | base64 -d > " + path + "\n")
		}
		sh.WriteString("git add -A; git commit -qm '" + message + "'; git push -q origin HEAD:main; git rev-parse HEAD\n")
		out, err := execIn(kindNS, gitPod, "git", "sh", "-c", sh.String())
		if err != nil {
			t.Fatalf("push: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	v1 := push(map[string]string{"dags/airkube_e2e_bundle.py": string(dagSrc)}, "v1")

	bundled := renderWith(t, spec, []string{kindOverlay}, gitBundleOverlay)
	start := time.Now()
	figure(t, "kind weather-etl upgrade from NAS DAGs to the git bundle", helmInstall(t, bundled))
	figure(t, "kind git bundle: the DAG parsed from the repository after the upgrade", waitDAG(t, "airkube_e2e_bundle", v1, start))

	// run triggers the bundle DAG and checks that both tasks ran the given commit's VERSION.
	run := func(id, version, commit string) {
		t.Helper()
		triggerRun(t, name, "airflow", "airkube_e2e_bundle", id)
		state, took := waitRun(t, "airflow", "airkube_e2e_bundle", id, 10*time.Minute)
		figure(t, "kind git bundle DAG run "+version+" (Celery + KubernetesExecutor)", took)
		if state != "success" {
			dumpPods(t, kindNS)
			t.Fatalf("run %s ended %s: %v", id, state, taskInstances(t, "airflow", "airkube_e2e_bundle", id))
		}
		if got := psql(t, "airflow", "SELECT d.bundle_name, r.bundle_version FROM dag_run r JOIN dag d USING (dag_id) WHERE r.dag_id = 'airkube_e2e_bundle' AND r.run_id = '"+id+"'"); !reflect.DeepEqual(got, [][]string{{"dags", commit}}) {
			t.Errorf("run %s: bundle and version %v, want dags at %s", id, got, commit)
		}
		for _, task := range []string{"celery", "pod"} {
			got := psql(t, "airflow", "SELECT value::text FROM xcom WHERE dag_id = 'airkube_e2e_bundle' AND run_id = '"+id+"' AND task_id = '"+task+"' AND key = 'return_value'")
			if len(got) != 1 || got[0][0] != `"`+version+`"` {
				t.Errorf("run %s: task %s returned %v, want %q (the DAG of commit %s)", id, task, got, version, commit)
			}
		}
	}
	run("e2e-bundle-v1-"+runSuffix, "v1", v1)

	// A commit changes the DAG and adds one: the next run executes the new version everywhere, and
	// the new DAG appears within a minute.
	newDAG := "airkube_e2e_pushed_" + strings.ToLower(runSuffix)
	start = time.Now()
	v2 := push(map[string]string{
		"dags/airkube_e2e_bundle.py": strings.Replace(string(dagSrc), `VERSION = "v1"`, `VERSION = "v2"`, 1),
		"dags/" + newDAG + ".py":     newDAGFile(newDAG),
	}, "v2")
	figure(t, "kind git bundle: a new DAG pushed until Airflow lists it", waitDAG(t, newDAG, v2, start))
	waitDAG(t, "airkube_e2e_bundle", v2, start)
	run("e2e-bundle-v2-"+runSuffix, "v2", v2)

	// The bundle's settings are read by the dag-processor and the Celery workers (task pods read them
	// when they start): a change rolls those, and no other component.
	before := generations(t, kindNS, name)
	changed := renderWith(t, spec, []string{kindOverlay}, gitBundleOverlay, "storage: {dags: {git: {refreshInterval: 20s}}}")
	figure(t, "kind weather-etl upgrade of the bundle's refresh interval", helmInstall(t, changed))
	want := []string{"weather-etl-dag-processor", "weather-etl-worker-default", "weather-etl-worker-gis"}
	if got := rolled(before, generations(t, kindNS, name)); !reflect.DeepEqual(got, want) {
		t.Errorf("a bundle change rolled %v, want %v", got, want)
	}
	if logs := podLogs(t, kindNS, gitPod, "git"); !strings.Contains(logs, " 401 -") || !strings.Contains(logs, " 200 airflow") {
		t.Errorf("the git server's log shows no challenge answered with the token:\n%s", logs)
	}
	return changed
}

// podLogs returns a container's log.
func podLogs(t *testing.T, ns, pod, container string) string {
	t.Helper()
	data, err := cluster.client.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	return string(data)
}
