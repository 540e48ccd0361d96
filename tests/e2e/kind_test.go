//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The kind suite: releases on real kubelets with images built from packages (hack/kind/images.sh),
// the database and NAS stand-ins of overlays/kind/environment.yaml, and a DAG through every group.

// kindNS is the namespace overlays/kind/environment.yaml prepares (the weather spec's own).
const kindNS = "airflow"

// runSuffix keeps DAG run ids unique when the suite runs again against a kept cluster (make kind-up).
var runSuffix = time.Now().UTC().Format("20060102T150405")

// dbPassword holds every character that breaks naive database URIs.
const dbPassword = "p@ss:w/rd%#?&"

func kindOnly(t *testing.T) {
	t.Helper()
	if !cluster.kind {
		t.Skip("real pods: runs on the kind cluster (make e2e-kind)")
	}
}

func kwokOnly(t *testing.T) {
	t.Helper()
	if cluster.kind {
		t.Skip("the kwok suite's server-side checks; the kind suite runs real releases instead")
	}
}

// kindEnvironment applies overlays/kind/environment.yaml and the database password Secret, as the
// README's by-hand steps do, and waits for the database.
func kindEnvironment(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(repoRoot, "overlays", "kind", "environment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objects(t, data) {
		if err := createObject(obj, obj.GetNamespace(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	_, err = cluster.client.CoreV1().Secrets(kindNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "airflow-db"},
		StringData: map[string]string{"password": dbPassword}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	setUserPasswords(t, map[string]string{"admin": kindAdminPassword, "forecaster": kindViewerPassword})
	// The weather release's connection and variable, as the README's steps create them.
	for name, data := range map[string]map[string]string{
		"weather-connections": {"grib_archive": kindGribConnection},
		"weather-variables":   {"forecast_region": "europe"},
	} {
		_, err := cluster.client.CoreV1().Secrets(kindNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	if err := poll(5*time.Minute, func() (bool, error) {
		s, err := cluster.client.AppsV1().StatefulSets(kindNS).Get(ctx, "postgres", metav1.GetOptions{})
		return err == nil && s.Status.AvailableReplicas == 1, nil
	}); err != nil {
		t.Fatalf("the database stand-in did not become ready: %v", err)
	}
}

// TestE2EKindWeatherRelease runs the weather release (Celery + Kubernetes executors on 3.3.2, three
// task groups, one with its own Fortran image) on real pods: installed with the plain helm CLI, a DAG
// through every group, an upgrade of one group while a task runs on another, uninstall and reinstall.
func TestE2EKindWeatherRelease(t *testing.T) {
	kindOnly(t)
	const name = "weather-etl"
	spec := filepath.Join(repoRoot, "values", "weather-etl.yaml")
	kindOverlay := filepath.Join(repoRoot, "overlays", "kind", "overlay.yaml")
	res := renderWith(t, spec, []string{kindOverlay})
	rec := recordTaskPods(t, kindNS)
	legacy := legacyNode(t)

	// Installed as a user does: the steps `make kind-up` printed, pasted as they are. Everything the
	// release needs (the stand-ins, the Secrets, the DAGs, the labelled node) comes from them and kind-up.
	figure(t, "kind weather-etl by-hand steps (environment, Secrets, DAGs, render, helm upgrade --install --wait to ready)", runKindByHand(t))
	assertReady(t, res)
	printInstallBreakdown(t, name)
	users := secretStrings(t, kindNS, "airflow-users")
	adminPassword, viewerPassword := users["admin"], users["forecaster"]
	secrets := secretData(t, kindNS, "weather-etl-airflow", "weather-etl-redis")
	// sslMode: require reached the database: every session of the airflow user is encrypted.
	if rows := psql(t, "airflow", "SELECT ssl, count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'airflow' AND client_addr IS NOT NULL GROUP BY ssl"); len(rows) != 1 || rows[0][0] != "t" {
		t.Errorf("database sessions by TLS (ssl, count): %v, want all encrypted", rows)
	}

	groupsRun, longRun, connRun := "e2e-groups-"+runSuffix, "e2e-long-"+runSuffix, "e2e-connection-"+runSuffix
	t.Run("a DAG through every task group", func(t *testing.T) {
		figure(t, "kind weather-etl DAG run through 3 groups", runGroups(t, name, "airflow", groupsRun))
		assertGroupsRan(t, res, "airflow", groupsRun, rec, legacy)

		// The Fortran task's log, read back through the api-server's REST API, from the log volume.
		api := connectAPIServer(t, name, "admin", adminPassword)
		log := api.call(t, "GET", "/api/v2/dags/airkube_e2e_groups/dagRuns/"+groupsRun+"/taskInstances/fortran/logs/1?full_content=true", nil)
		if !bytes.Contains(log, []byte("airkube fortran sum=21")) {
			t.Errorf("the Fortran task's log through the REST API lacks its program's output:\n%s", log)
		}
		files, _ := filepath.Glob(filepath.Join(nasDir(t), "logs", "dag_id=airkube_e2e_groups", "run_id="+groupsRun, "task_id=*", "attempt=1.log"))
		if len(files) != len(res.Release.TaskGroups) {
			t.Errorf("task logs on the NAS: %v, want one per group", files)
		}
	})

	t.Run("every container's root filesystem is read-only; Airflow's pods write to /tmp", func(t *testing.T) {
		assertReadOnlyRoots(t, name)
	})

	t.Run("NetworkPolicies enforced (kube-router): closed to other namespaces, open where the release needs it", func(t *testing.T) {
		assertNetworkPoliciesEnforced(t, name)
	})

	t.Run("a real Prometheus scrapes the exporter: the run's task durations and the scheduler's heartbeat", func(t *testing.T) {
		var groups []string
		for _, g := range res.Release.TaskGroups {
			groups = append(groups, g.Name)
		}
		assertPrometheus(t, name, groupsRun, groups)
	})

	t.Run("the gis group scales with its queue: from zero, out, and back (KEDA)", func(t *testing.T) {
		assertQueueScaling(t, res, 12)
	})

	t.Run("a Celery worker killed hard mid-task: the task runs again, nothing lost", func(t *testing.T) {
		assertWorkerKilled(t, res)
	})

	t.Run("the scheduler deleted, then the database restarted, mid-run: no retry, no crash", func(t *testing.T) {
		assertSchedulerAndDatabaseFaults(t, res)
	})

	t.Run("logins come from the users Secret and follow its changes", func(t *testing.T) {
		base := portForward(t, name, "api-server", 8080)
		for user, pw := range map[string]string{"admin": adminPassword, "forecaster": viewerPassword} {
			if status, _ := login(t, base, user, pw); status != http.StatusCreated {
				t.Errorf("%s with the password in airflow-users: HTTP %d, want 201", user, status)
			}
			if status, _ := login(t, base, user, pw+"x"); status != http.StatusUnauthorized {
				t.Errorf("%s with a wrong password: HTTP %d, want 401", user, status)
			}
		}
		// A new password in the Secret; the next upgrade (nothing else changed) rolls the api-server only.
		const rotated = "r0tated-Adm1n!"
		setUserPasswords(t, map[string]string{"admin": rotated, "forecaster": viewerPassword})
		before := generations(t, kindNS, name)
		figure(t, "kind weather-etl upgrade after a password change", helmInstall(t, res))
		if got, want := rolled(before, generations(t, kindNS, name)), []string{"weather-etl-api-server"}; !reflect.DeepEqual(got, want) {
			t.Errorf("rolled %v, want %v", got, want)
		}
		base = portForward(t, name, "api-server", 8080)
		if status, _ := login(t, base, "admin", rotated); status != http.StatusCreated {
			t.Errorf("admin with the changed password: HTTP %d, want 201", status)
		}
		if status, _ := login(t, base, "admin", adminPassword); status != http.StatusUnauthorized {
			t.Errorf("admin with the old password after the change: HTTP %d, want 401", status)
		}
	})

	t.Run("data volumes, a connection, a variable, XComs and a sidecar reach the groups' tasks", func(t *testing.T) {
		grib := filepath.Join(nasDir(t), "grib")
		if err := os.WriteFile(filepath.Join(grib, "input.txt"), []byte("1 2 3 4 5 6\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		run := "e2e-data-" + runSuffix
		triggerRun(t, name, "airflow", "airkube_e2e_data", run)
		state, took := waitRun(t, "airflow", "airkube_e2e_data", run, 10*time.Minute)
		figure(t, "kind weather-etl data/env DAG run (fortran + gis)", took)
		for task, ti := range taskInstances(t, "airflow", "airkube_e2e_data", run) {
			if ti.state != "success" {
				t.Errorf("task %s: %s", task, ti.state)
			}
		}
		out, err := os.ReadFile(filepath.Join(nasDir(t), "model-output", run+".txt"))
		if state != "success" || err != nil || strings.TrimSpace(string(out)) != "sum=21" {
			t.Errorf("run %s; model output on the NAS: %q (%v), want sum=21", state, out, err)
		}
		if _, err := os.Stat(filepath.Join(grib, "written-by-gis")); err == nil {
			t.Error("a task wrote to the read-only grib volume")
		}
		// The grid gis pushed (about 320 KB of JSON) went to the XCom volume on the NAS, gzipped; the
		// database row holds only where it is, and fortran's task pod pulled it from there.
		rows := psql(t, "airflow", "SELECT value::text FROM xcom WHERE dag_id = 'airkube_e2e_data' AND run_id = '"+run+"' AND task_id = 'grid_gis' AND key = 'return_value'")
		if len(rows) != 1 || len(rows[0][0]) > 500 || !strings.Contains(rows[0][0], "file:///mnt/xcom/") {
			t.Fatalf("the grid's xcom row: %q, want a reference into file:///mnt/xcom/", rows)
		}
		ref := strings.Trim(rows[0][0], `"`)
		stored, err := os.Stat(filepath.Join(nasDir(t), "xcom", strings.TrimPrefix(ref, "file:///mnt/xcom/")))
		if err != nil {
			t.Fatalf("the xcom row names %s, not on the NAS: %v", ref, err)
		}
		fmt.Printf("FIGURE kind weather-etl XCom grid on the NAS, gzipped: %d bytes at %s\n", stored.Size(), ref)
	})

	t.Run("Celery workers use the release's visibility timeout", func(t *testing.T) {
		pod := podOf(t, kindNS, "app.kubernetes.io/instance="+name+",airkube.dev/task-group=default")
		out, err := execIn(kindNS, pod, "worker", "python", "-c",
			"from airflow.providers.celery.executors.celery_executor_utils import app; print(app.conf.broker_transport_options['visibility_timeout'])")
		if err != nil || strings.TrimSpace(out) != "86400" {
			t.Errorf("the default group's Celery app has visibility_timeout %q (%v), want 86400 (broker.visibilityTimeout 24h)", out, err)
		}
	})

	t.Run("log retention cleans the NAS for real", func(t *testing.T) {
		assertLogRetention(t, name)
	})

	t.Run("upgrading one group's image rolls only it while a task runs on another", func(t *testing.T) {
		triggerRun(t, name, "airflow", "airkube_e2e_long", longRun)
		if err := poll(5*time.Minute, func() (bool, error) {
			return taskInstances(t, "airflow", "airkube_e2e_long", longRun)["long"].state == "running", nil
		}); err != nil {
			t.Fatalf("the long task did not start: %v", err)
		}
		before, images := generations(t, kindNS, name), deploymentImages(t, name)
		// The Fortran group's image is on every node already: the gis group moves to it.
		fortran := res.Release.TaskGroups[1].Image
		changed := renderWith(t, spec, []string{kindOverlay}, "taskGroups: [{name: gis, image: '"+fortran+"'}]")
		figure(t, "kind weather-etl upgrade of one group's image", helmInstall(t, changed))
		if got, want := rolled(before, generations(t, kindNS, name)), []string{"weather-etl-worker-gis"}; !reflect.DeepEqual(got, want) {
			t.Errorf("rolled %v, want %v", got, want)
		}
		if got := deploymentImages(t, name)["weather-etl-worker-gis"]; got != fortran || images["weather-etl-worker-gis"] == fortran {
			t.Errorf("worker-gis image %s, want %s (was %s)", got, fortran, images["weather-etl-worker-gis"])
		}
		state, _ := waitRun(t, "airflow", "airkube_e2e_long", longRun, 10*time.Minute)
		if ti := taskInstances(t, "airflow", "airkube_e2e_long", longRun)["long"]; state != "success" || ti.state != "success" {
			t.Errorf("the task running during the upgrade ended %s (run %s)", ti.state, state)
		}
		res = changed
	})

	t.Run("uninstall and reinstall keep logs, secrets and encrypted connections", func(t *testing.T) {
		_, _ = execIn(kindNS, podOf(t, kindNS, "app.kubernetes.io/instance="+name+",app.kubernetes.io/component=scheduler"), "scheduler",
			"airflow", "connections", "delete", "airkube_e2e") // left by an earlier run on a kept cluster
		airflowCLI(t, name, "connections", "add", "airkube_e2e", "--conn-type", "generic", "--conn-password", "e2e-p@ss:w/rd")
		logs := filepath.Join(nasDir(t), "logs", "dag_id=airkube_e2e_groups")
		helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
		if _, err := os.Stat(logs); err != nil {
			t.Errorf("task logs went away with the release: %v", err)
		}
		if after := secretData(t, kindNS, "weather-etl-airflow", "weather-etl-redis"); !reflect.DeepEqual(secrets, after) {
			t.Error("secrets changed or went away on uninstall")
		}
		figure(t, "kind weather-etl reinstall to ready", helmInstall(t, res))
		if after := secretData(t, kindNS, "weather-etl-airflow", "weather-etl-redis"); !reflect.DeepEqual(secrets, after) {
			t.Error("reinstall changed the secrets")
		}
		triggerRun(t, name, "airflow", "airkube_e2e_connection", connRun)
		if state, _ := waitRun(t, "airflow", "airkube_e2e_connection", connRun, 10*time.Minute); state != "success" {
			t.Errorf("after reinstall, a task could not decrypt the connection stored before: run %s", state)
		}
	})

	t.Run("task logs and large XComs in S3: written by workers and task pods, read back after they are gone", func(t *testing.T) {
		res = assertObjectStorage(t, res, spec, kindOverlay)
	})

	t.Run("a new DAG file on the NAS appears within a minute", func(t *testing.T) {
		assertNewDAGOnNAS(t)
	})

	t.Run("DAGs from a private git repository as a bundle: each push reaches Celery and KubernetesExecutor tasks", func(t *testing.T) {
		res = assertGitBundle(t, res, spec, kindOverlay)
	})

	t.Run("the UI through a real ingress and Gateway API controller (Traefik): TLS, a base path, only Traefik let in", func(t *testing.T) {
		res = assertIngressAndGateway(t, res, spec, kindOverlay, secretStrings(t, kindNS, "airflow-users")["admin"])
	})

	// Leave the cluster to the next test.
	helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
}

// assertLogRetention puts old, new, nested and symlinked files on the NAS's log folder (owned by
// Airflow's uid, as Airflow's own would be), runs the release's log-retention CronJob as a Job, and
// checks that only the old files went and nothing a link points to.
func assertLogRetention(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	nas := nasDir(t)
	root := filepath.Join(nas, "logs", "retention-e2e-"+runSuffix)
	old := time.Now().Add(-40 * 24 * time.Hour)
	write := func(path string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o775); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("log\n"), 0o664); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "old.log"), old)
	write(filepath.Join(root, "new.log"), time.Now())
	write(filepath.Join(root, "nested/deep/old.log"), old)
	keep := filepath.Join(nas, "dags", "retention-keep-"+runSuffix+".txt")
	write(keep, old)
	t.Cleanup(func() { os.Remove(keep) })
	if err := os.Symlink(filepath.Join("..", "..", "dags", filepath.Base(keep)), filepath.Join(root, "link.log")); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, 50000, 0)
	})
	if err != nil {
		t.Fatal(err)
	}

	cj, err := cluster.client.BatchV1().CronJobs(kindNS).Get(ctx, release+"-log-retention", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the release has no log-retention CronJob: %v", err)
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "log-retention-e2e-" + strings.ToLower(runSuffix)}, Spec: cj.Spec.JobTemplate.Spec}
	if _, err := cluster.client.BatchV1().Jobs(kindNS).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		policy := metav1.DeletePropagationBackground
		_ = cluster.client.BatchV1().Jobs(kindNS).Delete(context.Background(), job.Name, metav1.DeleteOptions{PropagationPolicy: &policy})
	})
	start := time.Now()
	if err := poll(5*time.Minute, func() (bool, error) {
		j, err := cluster.client.BatchV1().Jobs(kindNS).Get(ctx, job.Name, metav1.GetOptions{})
		return err == nil && (jobComplete(*j) || j.Status.Failed > 0), nil
	}); err != nil {
		t.Fatalf("the log-retention Job did not end: %v", err)
	}
	figure(t, "kind log retention Job", time.Since(start))
	for path, want := range map[string]bool{"old.log": false, "nested/deep/old.log": false, "new.log": true, "link.log": true} {
		if _, err := os.Lstat(filepath.Join(root, path)); (err == nil) != want {
			t.Errorf("after log retention, %s exists: %v, want %v", path, err == nil, want)
		}
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file outside the log root, behind a link, went: %v", err)
	}
	// The run's own task logs are days younger than the retention: they stay.
	if files, _ := filepath.Glob(filepath.Join(nas, "logs", "dag_id=airkube_e2e_groups", "*", "*", "attempt=1.log")); len(files) == 0 {
		t.Error("log retention deleted fresh task logs")
	}
}

// kx211Overlay runs the 2.11 KubernetesExecutor release in the kind environment, with its own
// database, and a legacy group pinned to the labelled node.
const kx211Overlay = `
airflow: {image: airkube.local/airflow:2.11.2}
database: {host: postgres, name: airflow211}
storage:
  dags: {existingClaim: nas-dags}
  logs: {existingClaim: nas-logs}
components:
  scheduler: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
  apiServer: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
  dagProcessor: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
auth:
  manager: fab
  users:
    - {username: admin, role: Admin, passwordSecret: {name: airflow-users, key: admin}}
    - {username: forecaster, role: Viewer, passwordSecret: {name: airflow-users, key: forecaster}}
taskGroups:
  - {name: fortran, $patch: delete}
  - name: legacy
    nodeSelector: {pool: legacy}
`

// TestE2EKind211 runs the same DAG on the 2.11.2 KubernetesExecutor release: every task in its own pod;
// then upgrades it in place to 3.3.2 (assertUpgrade211To33).
func TestE2EKind211(t *testing.T) {
	kindOnly(t)
	const name = "legacy-kx"
	kindEnvironment(t)
	installDAGs(t)
	// A fresh database: the test upgrades it to 3.3, and 2.11 must not meet a 3.3 schema on a rerun.
	psql(t, "airflow", "DROP DATABASE IF EXISTS airflow211 WITH (FORCE)")
	psql(t, "airflow", "CREATE DATABASE airflow211")
	// Nor an earlier run's refused migration Job, which uninstall leaves for its logs.
	background := metav1.DeletePropagationBackground
	if err := cluster.client.BatchV1().Jobs(kindNS).DeleteCollection(context.Background(), metav1.DeleteOptions{PropagationPolicy: &background},
		metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name}); err != nil {
		t.Fatal(err)
	}
	res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "kubernetes-2.11", "spec.yaml"), nil, kx211Overlay)
	rec := recordTaskPods(t, kindNS)
	figure(t, "kind legacy-kx (2.11) install to ready", helmInstall(t, res))
	assertReady(t, res)
	// The users Job made the FAB user: its password from the Secret opens the REST API (basic auth).
	base := portForward(t, name, "webserver", 8080)
	for pw, want := range map[string][]int{kindAdminPassword: {http.StatusOK}, kindAdminPassword + "x": {http.StatusUnauthorized, http.StatusForbidden}} {
		req, _ := http.NewRequest("GET", base+"/api/v1/dags", nil)
		req.SetBasicAuth("admin", pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !slices.Contains(want, resp.StatusCode) {
			t.Errorf("2.11 webserver, admin with password %q: HTTP %d, want %v", pw, resp.StatusCode, want)
		}
	}
	run := "e2e-211-groups-" + runSuffix
	figure(t, "kind legacy-kx (2.11) DAG run through 2 groups", runGroups(t, name, "airflow211", run))
	assertGroupsRan(t, res, "airflow211", run, rec, legacyNode(t))
	assertUpgrade211To33(t, res, "airflow211", run)
	helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
}
