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
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"

	"github.com/airkube/airkube/generator/render"
)

// Helpers of the kind suite (kind_test.go, kind_scale_test.go): the cluster's pods, exec, the
// metadata database, DAG runs, port-forwards to the api-server, and the by-hand steps of make kind-up.

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
	out, took, err := helmTry(t, res, args...)
	if err != nil {
		dumpPods(t, res.Release.Metadata.Namespace)
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return took
}

// helmCLI runs the pinned helm CLI against the kind cluster.
func helmCLI(t *testing.T, args ...string) (time.Duration, string, error) {
	t.Helper()
	helm := os.Getenv("AIRKUBE_HELM")
	if helm == "" {
		t.Fatal("AIRKUBE_HELM is not set (make e2e-kind builds the pinned Helm CLI)")
	}
	start := time.Now()
	out, err := exec.Command(helm, append(args, "--kubeconfig", cluster.kubeconfig)...).CombinedOutput()
	return time.Since(start), string(out), err
}

// helmTry is helmInstall that returns helm's output and error instead of failing the test.
func helmTry(t *testing.T, res *render.Result, args ...string) (string, time.Duration, error) {
	t.Helper()
	name, ns := res.Release.Metadata.Name, res.Release.Metadata.Namespace
	out := t.TempDir()
	if err := render.Write(res, out); err != nil {
		t.Fatal(err)
	}
	if len(args) == 0 {
		args = []string{"upgrade", "--install", name, filepath.Join(out, name), "--namespace", ns, "--wait", "--wait-for-jobs", "--timeout", "15m"}
	}
	took, out, err := helmCLI(t, args...)
	return out, took, err
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
	rows, err := tryPSQL(podOf(t, kindNS, "app=postgres"), db, query)
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	return rows
}

// tryPSQL is psql in a given database pod, for polls that outlast a database restart.
func tryPSQL(pod, db, query string) ([][]string, error) {
	out, err := execIn(kindNS, pod, "postgres", "sh", "-c",
		`PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U airflow -d "$1" -At -v ON_ERROR_STOP=1 -c "$2"`, "psql", db, query)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows, nil
}

// airflowCLI runs the airflow CLI in the release's scheduler pod.
func airflowCLI(t *testing.T, release string, args ...string) string {
	t.Helper()
	return airflowCLIIn(t, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component=scheduler", args...)
}

// airflowCLIIn runs the airflow CLI in the scheduler container of the pod selector names (the
// official chart labels its pods release= and component=).
func airflowCLIIn(t *testing.T, selector string, args ...string) string {
	t.Helper()
	pod := podOf(t, kindNS, selector)
	out, err := execIn(kindNS, pod, "scheduler", append([]string{"airflow"}, args...)...)
	if err != nil {
		t.Fatalf("airflow %s in %s: %v\n%s", strings.Join(args, " "), pod, err, out)
	}
	return out
}

// triggerRun waits until the DAG is parsed, then triggers a run with the given id (and the extra
// arguments of `airflow dags trigger`, such as --conf).
func triggerRun(t *testing.T, release, db, dag, runID string, args ...string) {
	t.Helper()
	if err := poll(5*time.Minute, func() (bool, error) {
		return len(psql(t, db, "SELECT dag_id FROM dag WHERE dag_id = '"+dag+"' AND NOT is_paused")) == 1, nil
	}); err != nil {
		t.Fatalf("DAG %s was not parsed (or is paused): %v", dag, err)
	}
	airflowCLI(t, release, append([]string{"dags", "trigger", dag, "--run-id", runID}, args...)...)
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
	return portForwardPod(t, kindNS, podOf(t, kindNS, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component="+component), port)
}

// portForwardPod forwards a free local port to port of pod in ns and returns its base URL.
func portForwardPod(t *testing.T, ns, pod string, port int) string {
	t.Helper()
	req := cluster.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward")
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
