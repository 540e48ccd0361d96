//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"

	"github.com/airkube/airkube/generator/render"
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
		d, err := cluster.client.AppsV1().Deployments(kindNS).Get(ctx, "postgres", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 1, nil
	}); err != nil {
		t.Fatalf("the database stand-in did not become ready: %v", err)
	}
}

// nasDir is the host folder every kind node mounts at /nas (hack/kind/main.go).
func nasDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AIRKUBE_KIND_NAS")
	if dir == "" {
		t.Fatal("AIRKUBE_KIND_NAS is not set (make e2e-kind sets it)")
	}
	return dir
}

// installDAGs puts the suite's DAG file on the NAS's DAG folder, as a user copies DAGs to the share.
func installDAGs(t *testing.T) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "dags", "airkube_e2e.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nasDir(t), "dags", "airkube_e2e.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
}

// helmInstall writes the rendered chart and runs the README's command with the plain helm CLI.
func helmInstall(t *testing.T, res *render.Result, args ...string) time.Duration {
	t.Helper()
	helm := os.Getenv("AIRKUBE_HELM")
	if helm == "" {
		t.Fatal("AIRKUBE_HELM is not set (make e2e-kind builds the pinned Helm CLI)")
	}
	name, ns := res.Release.Metadata.Name, res.Release.Metadata.Namespace
	out := t.TempDir()
	if err := render.Write(res, out); err != nil {
		t.Fatal(err)
	}
	if len(args) == 0 {
		args = []string{"upgrade", "--install", name, filepath.Join(out, name), "--namespace", ns, "--wait", "--wait-for-jobs", "--timeout", "15m"}
	}
	start := time.Now()
	cmd := exec.Command(helm, append(args, "--kubeconfig", cluster.kubeconfig)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		dumpPods(t, ns)
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	return time.Since(start)
}

// dumpPods logs every pod's phase and its containers' states, to say why a release is not ready.
func dumpPods(t *testing.T, ns string) {
	t.Helper()
	pods, err := cluster.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, p := range pods.Items {
		var states []string
		for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			st, _ := json.Marshal(s.State)
			states = append(states, fmt.Sprintf("%s ready=%v restarts=%d %s", s.Name, s.Ready, s.RestartCount, st))
		}
		t.Logf("pod %s on %s: %s %s", p.Name, p.Spec.NodeName, p.Status.Phase, strings.Join(states, "; "))
	}
}

// podOf returns the name of a running pod matching selector.
func podOf(t *testing.T, ns, selector string) string {
	t.Helper()
	var name string
	if err := poll(3*time.Minute, func() (bool, error) {
		pods, err := cluster.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				name = p.Name
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no running pod for %s: %v", selector, err)
	}
	return name
}

// execIn runs a command in a pod's container, as `kubectl exec` does, and returns its stdout.
func execIn(ns, pod, container string, cmd ...string) (string, error) {
	req := cluster.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(cluster.config, "POST", req.URL())
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(cmd, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// psql runs one query in the database stand-in and returns its rows, fields separated by |.
func psql(t *testing.T, db, query string) [][]string {
	t.Helper()
	pod := podOf(t, kindNS, "app=postgres")
	out, err := execIn(kindNS, pod, "postgres", "sh", "-c",
		`PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U airflow -d "$1" -At -v ON_ERROR_STOP=1 -c "$2"`, "psql", db, query)
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

// airflowCLI runs the airflow CLI in the release's scheduler pod.
func airflowCLI(t *testing.T, release string, args ...string) string {
	t.Helper()
	pod := podOf(t, kindNS, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component=scheduler")
	out, err := execIn(kindNS, pod, "scheduler", append([]string{"airflow"}, args...)...)
	if err != nil {
		t.Fatalf("airflow %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// triggerRun waits until the DAG is parsed, then triggers a run with the given id.
func triggerRun(t *testing.T, release, db, dag, runID string) {
	t.Helper()
	if err := poll(5*time.Minute, func() (bool, error) {
		return len(psql(t, db, "SELECT dag_id FROM dag WHERE dag_id = '"+dag+"' AND NOT is_paused")) == 1, nil
	}); err != nil {
		t.Fatalf("DAG %s was not parsed (or is paused): %v", dag, err)
	}
	airflowCLI(t, release, "dags", "trigger", dag, "--run-id", runID)
}

// waitRun waits for a DAG run to end and returns its state and how long it took from the trigger.
func waitRun(t *testing.T, db, dag, runID string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	state := ""
	err := poll(timeout, func() (bool, error) {
		rows := psql(t, db, "SELECT state FROM dag_run WHERE dag_id = '"+dag+"' AND run_id = '"+runID+"'")
		if len(rows) == 1 {
			state = rows[0][0]
		}
		return state == "success" || state == "failed", nil
	})
	if err != nil {
		t.Errorf("DAG run %s/%s still %q: %v", dag, runID, state, err)
	}
	return state, time.Since(start)
}

// runGroups runs airkube_e2e_groups to the end and returns how long it took; a run that did not
// succeed ends the test, with the tasks' states and the pods'.
func runGroups(t *testing.T, release, db, runID string) time.Duration {
	t.Helper()
	triggerRun(t, release, db, "airkube_e2e_groups", runID)
	state, took := waitRun(t, db, "airkube_e2e_groups", runID, 15*time.Minute)
	if state != "success" {
		dumpPods(t, kindNS)
		t.Fatalf("DAG run ended %s: %v", state, taskInstances(t, db, "airkube_e2e_groups", runID))
	}
	return took
}

// taskInstance is one task's row in the metadata database.
type taskInstance struct{ state, hostname string }

func taskInstances(t *testing.T, db, dag, runID string) map[string]taskInstance {
	t.Helper()
	out := map[string]taskInstance{}
	for _, r := range psql(t, db, "SELECT task_id, coalesce(state, ''), hostname FROM task_instance WHERE dag_id = '"+dag+"' AND run_id = '"+runID+"'") {
		out[r[0]] = taskInstance{state: r[1], hostname: r[2]}
	}
	return out
}

// podRecorder remembers every KubernetesExecutor task pod of a namespace by its IP, once it has one:
// Airflow deletes them when the task ends, and airkube has Airflow record a task's host by pod IP
// (core.hostname_callable), so the api-server reaches workers without per-pod DNS.
type podRecorder struct {
	mu   sync.Mutex
	pods map[string]corev1.Pod
	stop context.CancelFunc
}

func recordTaskPods(t *testing.T, ns string) *podRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &podRecorder{pods: map[string]corev1.Pod{}, stop: cancel}
	go func() {
		for ctx.Err() == nil {
			w, err := cluster.client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "kubernetes_executor=True"})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range w.ResultChan() {
				if p, ok := ev.Object.(*corev1.Pod); ok && p.Status.PodIP != "" {
					r.mu.Lock()
					r.pods[p.Status.PodIP] = *p
					r.mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(cancel)
	return r
}

func (r *podRecorder) get(ip string) (corev1.Pod, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[ip]
	return p, ok
}

// groupPods returns the IPs of the worker pods of a Celery task group, with their names.
func groupPods(t *testing.T, ns, release, group string) map[string]string {
	t.Helper()
	pods, err := cluster.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/instance=" + release + ",airkube.dev/task-group=" + group})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pods.Items {
		out[p.Status.PodIP] = p.Name
	}
	return out
}

// assertGroupsRan checks that every group's task succeeded where its group runs: Celery tasks on
// that group's worker pods, Kubernetes tasks in pods with the group's image, node and mounts.
func assertGroupsRan(t *testing.T, res *render.Result, db, runID string, rec *podRecorder, legacyNode string) {
	t.Helper()
	name := res.Release.Metadata.Name
	tis := taskInstances(t, db, "airkube_e2e_groups", runID)
	if len(tis) != len(res.Release.TaskGroups) {
		t.Errorf("run %s has tasks %v, want one per task group (%d)", runID, tis, len(res.Release.TaskGroups))
	}
	for _, g := range res.Release.TaskGroups {
		ti, found := tis[g.Name]
		if !found || ti.state != "success" {
			t.Errorf("task of group %s: %+v, want success", g.Name, ti)
			continue
		}
		host := ti.hostname
		switch g.Executor {
		case "CeleryExecutor":
			if pods := groupPods(t, kindNS, name, g.Name); pods[host] == "" {
				t.Errorf("task of Celery group %s ran on %q, not on one of its workers %v", g.Name, host, pods)
			}
		case "KubernetesExecutor":
			pod, found := rec.get(host)
			if !found {
				t.Errorf("task of Kubernetes group %s ran on %q, which is not a task pod the executor started", g.Name, host)
				continue
			}
			base := pod.Spec.Containers[0]
			if base.Image != g.Image {
				t.Errorf("group %s task pod runs %s, want %s", g.Name, base.Image, g.Image)
			}
			if g.NodeSelector["pool"] == "legacy" && pod.Spec.NodeName != legacyNode {
				t.Errorf("group %s task pod ran on %s, want the legacy node %s", g.Name, pod.Spec.NodeName, legacyNode)
			}
			mounts := map[string]bool{}
			for _, m := range base.VolumeMounts {
				mounts[m.MountPath] = true
			}
			for _, p := range []string{res.Release.Storage.DAGs.MountPath, res.Release.Storage.Logs.MountPath} {
				if !mounts[p] {
					t.Errorf("group %s task pod does not mount %s: %v", g.Name, p, base.VolumeMounts)
				}
			}
		}
	}
}

// kindGribConnection is the weather release's grib_archive connection (user wx, password gr!b:p@ss).
const kindGribConnection = "ftp://wx:gr%21b%3Ap%40ss@grib.example.com:21"

// Passwords of the kind environment's users Secret (airflow-users), as a user would create it.
const (
	kindAdminPassword  = "Adm1n p@ss:w/rd%&\"'"
	kindViewerPassword = "v1ewer+=#?"
)

// apiServer reaches a 3.x api-server through a port-forward, as a user without an Ingress does, and
// holds the token of a user logged in with the password from the users Secret.
type apiServer struct {
	base, token string
}

// portForward forwards a free local port to port of the release's pod of component and returns
// its base URL.
func portForward(t *testing.T, release, component string, port int) string {
	t.Helper()
	pod := podOf(t, kindNS, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component="+component)
	req := cluster.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(kindNS).Name(pod).SubResource("portforward")
	transport, upgrader, err := spdy.RoundTripperFor(cluster.config)
	if err != nil {
		t.Fatal(err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", req.URL())
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = fw.ForwardPorts() }()
	t.Cleanup(func() { close(stop) })
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatalf("port-forward to %s did not become ready", pod)
	}
	ports, err := fw.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", ports[0].Local)
}

// login posts a user's password to a 3.x api-server's /auth/token: the HTTP status and the token.
func login(t *testing.T, base, user, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(base+"/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return resp.StatusCode, tok.AccessToken
}

func connectAPIServer(t *testing.T, release, user, password string) *apiServer {
	t.Helper()
	api := &apiServer{base: portForward(t, release, "api-server", 8080)}
	status, tok := login(t, api.base, user, password)
	if status != http.StatusCreated || tok == "" {
		t.Fatalf("logging in as %s with the password in its Secret: HTTP %d", user, status)
	}
	api.token = tok
	return api
}

func (a *apiServer) call(t *testing.T, method, path string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	return b
}

// deploymentImages maps each Deployment of a release to its first container's image.
func deploymentImages(t *testing.T, release string) map[string]string {
	t.Helper()
	ds, err := cluster.client.AppsV1().Deployments(kindNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds.Items {
		out[d.Name] = d.Spec.Template.Spec.Containers[0].Image
	}
	return out
}

// runKindByHand runs the by-hand steps `make kind-up` printed (hack/kind/up.sh keeps them, byte for
// byte, in AIRKUBE_KIND_STEPS) with bash -e, as a user pastes them at the repository's root: here a
// temp copy of what they read, with bin/airkube built from this tree. It returns how long they took.
func runKindByHand(t *testing.T) time.Duration {
	t.Helper()
	path := os.Getenv("AIRKUBE_KIND_STEPS")
	if path == "" {
		t.Fatal("AIRKUBE_KIND_STEPS is not set (make e2e-kind sets it)")
	}
	steps, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the steps kind-up printed: %v", err)
	}
	namespaceGone(t, kindNS)
	dir := byHandWorkdir(t, "values", "overlays", filepath.Join("tests", "e2e", "testdata", "dags"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-x", "-c", string(steps))
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("the by-hand steps of make kind-up (%s) failed: %v\n%s", path, err, out)
	}
	t.Logf("the by-hand steps of make kind-up:\n%s", out)
	return time.Since(start)
}

// secretStrings reads one Secret's keys as strings.
func secretStrings(t *testing.T, ns, name string) map[string]string {
	t.Helper()
	s, err := cluster.client.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	return out
}

// legacyNode is the kind worker hack/kind labels pool=legacy (checked by ensureNodes).
func legacyNode(t *testing.T) string {
	t.Helper()
	nodes, err := cluster.client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: "pool=legacy"})
	if err != nil || len(nodes.Items) != 1 {
		t.Fatalf("want one node labelled pool=legacy: %v %v", err, nodes)
	}
	return nodes.Items[0].Name
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

	t.Run("the gis group scales with its queue: from zero, out, and back (KEDA)", func(t *testing.T) {
		assertQueueScaling(t, res)
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

	// Leave the cluster to the next test.
	helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
}

// setUserPasswords creates or replaces the users Secret (airflow-users) with these passwords.
func setUserPasswords(t *testing.T, passwords map[string]string) {
	t.Helper()
	ctx := context.Background()
	secrets := cluster.client.CoreV1().Secrets(kindNS)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "airflow-users"}, StringData: passwords}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
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
  users:
    - {username: admin, role: Admin, passwordSecret: {name: airflow-users, key: admin}}
taskGroups:
  - {name: fortran, $patch: delete}
  - name: legacy
    nodeSelector: {pool: legacy}
`

// TestE2EKind211 runs the same DAG on the 2.11.2 KubernetesExecutor release: every task in its own pod.
func TestE2EKind211(t *testing.T) {
	kindOnly(t)
	const name = "legacy-kx"
	kindEnvironment(t)
	installDAGs(t)
	if len(psql(t, "airflow", "SELECT 1 FROM pg_database WHERE datname = 'airflow211'")) == 0 {
		psql(t, "airflow", "CREATE DATABASE airflow211")
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
	helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
}
