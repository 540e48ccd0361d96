//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/airkube/airkube/generator/render"
)

// Faults during a DAG run on real pods, one at a time: each hits a run of airkube_e2e_faults while a
// task of every group runs (the Celery groups' workers and a KubernetesExecutor task pod), and each
// reports in one FIGURE line the time to recover, the retries the run used, the containers restarted
// and the tasks lost (which must be none).

// faultRun is one run of airkube_e2e_faults.
type faultRun struct {
	release, id string
	tasks       int
}

// untilReleased is a hold no fault outlasts: the tasks run until outcome releases them, however slow
// the machine, so a fault always meets every task still running.
const untilReleased = 20 * time.Minute

// startFaultRun triggers airkube_e2e_faults with every task holding on its first try for hold, or
// until outcome releases the run if that comes first, and waits until every task runs.
func startFaultRun(t *testing.T, res *render.Result, id string, hold time.Duration) *faultRun {
	t.Helper()
	r := &faultRun{release: res.Release.Metadata.Name, id: id, tasks: len(res.Release.TaskGroups)}
	t.Cleanup(func() { r.endHolds(t) }) // a test that stops early leaves no task holding a worker
	triggerRun(t, r.release, "airflow", "airkube_e2e_faults", id, "--conf", fmt.Sprintf(`{"seconds": %d}`, int(hold.Seconds())))
	var tis map[string]taskInstance
	if err := poll(5*time.Minute, func() (bool, error) {
		tis = taskInstances(t, "airflow", "airkube_e2e_faults", id)
		running := 0
		for _, ti := range tis {
			if ti.state == "running" {
				running++
			}
		}
		return running == r.tasks, nil
	}); err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("the fault run's %d tasks did not all start: %v: %v", r.tasks, tis, err)
	}
	return r
}

// outcome waits for the run to end and counts the retries it used and the tasks it lost (any task
// that did not end in success).
func (r *faultRun) outcome(t *testing.T) (tries map[string]int, retries, lost int) {
	t.Helper()
	r.endHolds(t)
	state, _ := waitRun(t, "airflow", "airkube_e2e_faults", r.id, 20*time.Minute)
	tries = map[string]int{}
	for _, row := range psql(t, "airflow", "SELECT task_id, coalesce(state, ''), try_number FROM task_instance WHERE dag_id = 'airkube_e2e_faults' AND run_id = '"+r.id+"'") {
		n, _ := strconv.Atoi(row[2])
		tries[row[0]] = n
		retries += max(n-1, 0)
		if row[1] != "success" {
			lost++
			t.Errorf("task %s ended %q after %d tries", row[0], row[1], n)
		}
	}
	if len(tries) != r.tasks || state != "success" {
		dumpPods(t, kindNS)
		t.Errorf("the fault run ended %s with %d task instances, want success with %d", state, len(tries), r.tasks)
	}
	return tries, retries, lost
}

// endHolds ends the run's holds: the DAG's tasks stop holding once a file named after the run is in
// the DAG share's .airkube-released folder (testdata/dags/airkube_e2e.py).
func (r *faultRun) endHolds(t *testing.T) {
	t.Helper()
	dir := filepath.Join(nasDir(t), "dags", ".airkube-released")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, r.id), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstTryOnly fails the test for every task that took more than one try; why says what the fault
// must not cost.
func firstTryOnly(t *testing.T, tries map[string]int, why string) {
	t.Helper()
	for task, n := range tries {
		if n != 1 {
			t.Errorf("task %s took %d tries, want 1: %s", task, n, why)
		}
	}
}

// restartCounts is the restart count of every container of the release's pods and the database's,
// by pod/container.
func restartCounts(t *testing.T, release string) map[string]int32 {
	t.Helper()
	out := map[string]int32{}
	for _, sel := range []string{"app.kubernetes.io/instance=" + release, "app=postgres"} {
		pods, err := cluster.client.CoreV1().Pods(kindNS).List(context.Background(), metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			for _, c := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
				out[p.Name+"/"+c.Name] = c.RestartCount
			}
		}
	}
	return out
}

// restartsSince lists the containers that restarted since before (a pod new since then counts all
// of its restarts).
func restartsSince(t *testing.T, release string, before map[string]int32) []string {
	t.Helper()
	var out []string
	for k, n := range restartCounts(t, release) {
		if n > before[k] {
			out = append(out, fmt.Sprintf("%s (%d)", k, n-before[k]))
		}
	}
	sort.Strings(out)
	return out
}

// exitedOnDatabaseError splits restartsSince's entries ("pod/container (n)") into those a database
// outage explains, a single restart whose previous container's log ends on a database connection error
// (Airflow 3.3.2's triggerer and dag-processor loops call the database with no retry), and the others.
func exitedOnDatabaseError(t *testing.T, restarts []string) (unexplained, onDBError []string) {
	t.Helper()
	for _, r := range restarts {
		name, count, _ := strings.Cut(r, " ")
		pod, ctr, _ := strings.Cut(name, "/")
		if count != "(1)" {
			unexplained = append(unexplained, r)
			continue
		}
		tail := int64(200)
		log, err := cluster.client.CoreV1().Pods(kindNS).GetLogs(pod, &corev1.PodLogOptions{Container: ctr, Previous: true, TailLines: &tail}).
			DoRaw(context.Background())
		if err != nil || !strings.Contains(string(log), "OperationalError") {
			t.Logf("%s: its previous log (%v) does not end on a database error:\n%.3000s", r, err, log)
			unexplained = append(unexplained, r)
			continue
		}
		onDBError = append(onDBError, r)
	}
	return unexplained, onDBError
}

// faultFigure prints one fault's figures on one line.
func faultFigure(fault string, recovered time.Duration, retries int, restarts []string, lost int) {
	fmt.Printf("FIGURE kind fault %s: recovered in %.1f s, %d retries, %d container restarts %v, %d tasks lost\n",
		fault, recovered.Seconds(), retries, len(restarts), restarts, lost)
}

// heartbeats waits until each of the job types (SchedulerJob, ...) has a running job that heartbeat
// after the SQL expression after, and that also meets the SQL condition also (if any); it reads the
// database through whichever of its pods runs, so it outlasts a database restart.
func heartbeats(t *testing.T, jobTypes []string, after, also string, timeout time.Duration) {
	t.Helper()
	var last string
	query := "SELECT DISTINCT job_type FROM job WHERE state = 'running' AND job_type IN ('" + strings.Join(jobTypes, "', '") +
		"') AND latest_heartbeat > " + after
	if also != "" {
		query += " AND " + also
	}
	err := poll(timeout, func() (bool, error) {
		db, ok := runningPod(kindNS, "app=postgres")
		if !ok {
			last = "no database pod"
			return false, nil
		}
		rows, err := tryPSQL(db, "airflow", query)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = fmt.Sprintf("fresh heartbeats from %v", rows)
		return len(rows) == len(jobTypes), nil
	})
	if err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("no fresh heartbeat from each of %v (last: %s): %v", jobTypes, last, err)
	}
}

// deploymentsReady waits until every Deployment of the release runs all its replicas ready.
func deploymentsReady(t *testing.T, release string, timeout time.Duration) {
	t.Helper()
	var last string
	if err := poll(timeout, func() (bool, error) {
		ds, err := cluster.client.AppsV1().Deployments(kindNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
		if err != nil {
			return false, nil
		}
		for _, d := range ds.Items {
			if want := ptr.Deref(d.Spec.Replicas, 1); d.Status.ReadyReplicas < want || d.Status.Replicas != want {
				last = fmt.Sprintf("%s: %d of %d ready (%d pods)", d.Name, d.Status.ReadyReplicas, want, d.Status.Replicas)
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("the release's Deployments did not all run ready (last: %s): %v", last, err)
	}
}

// steadyDatabase gives the database stand-in, for the load, the endpoint a managed database keeps under
// load: under the load's CPU starvation its 1 s pg_isready timed out, the Service dropped the pod, and every
// component saw "connection refused" (the scheduler then restarted). A probe is part of the pod, so the
// stand-in is replaced; the release settles before the load counts restarts. The default probe stays for
// the other faults, whose figures were measured with it.
func steadyDatabase(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	sets := cluster.client.AppsV1().StatefulSets(kindNS)
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"postgres","readinessProbe":{"timeoutSeconds":10,"failureThreshold":6}}]}}}}`
	if _, err := sets.Patch(ctx, "postgres", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := poll(5*time.Minute, func() (bool, error) {
		s, err := sets.Get(ctx, "postgres", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		st := s.Status
		return st.ObservedGeneration >= s.Generation && st.UpdateRevision == st.CurrentRevision && st.ReadyReplicas == 1, nil
	}); err != nil {
		t.Fatalf("the database stand-in did not come back with its load probe: %v", err)
	}
	deploymentsReady(t, release, 5*time.Minute)
}

// runningPod is podOf without failing: a running, not deleted pod for the selector, if there is one.
func runningPod(ns, selector string) (string, bool) {
	pods, err := cluster.client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return "", false
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			return p.Name, true
		}
	}
	return "", false
}

// deleteScheduler deletes (gracefully) a scheduler pod of the release and returns its name and IP
// (the hostname its job heartbeats under) and when it was deleted.
func deleteScheduler(t *testing.T, release string) (pod, ip string, at time.Time) {
	t.Helper()
	pod = podOf(t, kindNS, "app.kubernetes.io/instance="+release+",app.kubernetes.io/component=scheduler")
	ip = podIP(t, kindNS, pod)
	deletePod(t, kindNS, pod, false)
	return pod, ip, time.Now()
}

// podIP is a running pod's IP.
func podIP(t *testing.T, ns, name string) string {
	t.Helper()
	p, err := cluster.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Status.PodIP
}

// deletePod deletes a pod: gracefully, or with grace 0 as `kubectl delete --grace-period=0 --force`.
func deletePod(t *testing.T, ns, name string, force bool) {
	t.Helper()
	opts := metav1.DeleteOptions{}
	if force {
		opts.GracePeriodSeconds = ptr.To(int64(0))
	}
	if err := cluster.client.CoreV1().Pods(ns).Delete(context.Background(), name, opts); err != nil {
		t.Fatal(err)
	}
}

// assertWorkerKilled kills the default group's Celery worker pod hard while its task runs: nothing
// tells Airflow, so the task's missing heartbeat must (scheduler.task_instance_heartbeat_timeout),
// and its retry must run it again on the worker the Deployment made in its place.
func assertWorkerKilled(t *testing.T, res *render.Result) {
	t.Helper()
	release := res.Release.Metadata.Name
	run := startFaultRun(t, res, "e2e-fault-worker-"+runSuffix, time.Minute)
	before := restartCounts(t, release)
	worker := podOf(t, kindNS, "app.kubernetes.io/instance="+release+",airkube.dev/task-group=default")
	ip := podIP(t, kindNS, worker)
	if got := taskInstances(t, "airflow", "airkube_e2e_faults", run.id)["hold_default"]; got.hostname != ip {
		t.Fatalf("hold_default runs on %q, not on the worker %s (%s) about to be killed", got.hostname, worker, ip)
	}
	deletePod(t, kindNS, worker, true)
	killed := time.Now()
	next := nextTry(t, run, "hold_default").Sub(killed)
	tries, retries, lost := run.outcome(t)
	if tries["hold_default"] != 2 || retries != 1 {
		t.Errorf("tries %v, want 2 for hold_default (its worker was killed) and 1 for the rest", tries)
	}
	restarts := restartsSince(t, release, before)
	if len(restarts) > 0 {
		t.Errorf("containers restarted while a worker was killed: %v", restarts)
	}
	figure(t, "kind fault Celery worker killed hard: to the task's next try running", next)
	faultFigure("Celery worker killed hard (--grace-period=0 --force)", next, retries, restarts, lost)
}

// assertSchedulerAndDatabaseFaults runs one DAG run through two faults, one after the other: the
// scheduler deleted (a new one adopts the running tasks), then the database restarted (its pod
// deleted, as a managed database fails over; its data outlives the pod). No task may need a retry,
// and no component may crash, except by Airflow's own exit on the database error: one restart whose
// previous log ends on it (exitedOnDatabaseError).
func assertSchedulerAndDatabaseFaults(t *testing.T, res *render.Result) {
	t.Helper()
	release := res.Release.Metadata.Name
	run := startFaultRun(t, res, "e2e-fault-control-"+runSuffix, untilReleased)
	before := restartCounts(t, release)

	_, oldIP, start := deleteScheduler(t, release)
	heartbeats(t, []string{"SchedulerJob"}, "now() - interval '15 seconds'", "hostname <> '"+oldIP+"'", 5*time.Minute)
	deploymentsReady(t, release, 3*time.Minute)
	schedulerRecovered := time.Since(start)
	restarts := restartsSince(t, release, before)
	faultFigure("scheduler deleted", schedulerRecovered, 0, restarts, 0)

	tis := taskInstances(t, "airflow", "airkube_e2e_faults", run.id)
	for task, ti := range tis {
		if ti.state != "running" {
			t.Fatalf("task %s is %s before the database restart, want every task still running: %v", task, ti.state, tis)
		}
	}
	before = restartCounts(t, release)
	runs := psql(t, "airflow", "SELECT count(*) FROM dag_run")[0][0]
	db := podOf(t, kindNS, "app=postgres")
	deletePod(t, kindNS, db, false)
	start = time.Now()
	// Recovered: every component's job heartbeats in the restarted database, and every Deployment runs.
	heartbeats(t, []string{"SchedulerJob", "TriggererJob", "DagProcessorJob"}, "pg_postmaster_start_time()", "", 5*time.Minute)
	deploymentsReady(t, release, 3*time.Minute)
	dbRecovered := time.Since(start)
	tries, retries, lost := run.outcome(t)
	firstTryOnly(t, tries, "neither fault should cost a task its try")
	dbRestarts := restartsSince(t, release, before)
	unexplained, dbExits := exitedOnDatabaseError(t, dbRestarts)
	if len(restarts)+len(unexplained) > 0 {
		t.Errorf("containers restarted: %v after the scheduler's deletion, %v after the database's restart; want none "+
			"(besides one restart of a component whose own log ends on the database error: %v)", restarts, unexplained, dbExits)
	}
	if len(dbExits) > 0 {
		fmt.Printf("FIGURE kind fault database restarted: %v stopped on the database error (Airflow's loop has no retry there) and the kubelet started it again\n", dbExits)
	}
	if after := psql(t, "airflow", "SELECT count(*) FROM dag_run")[0][0]; after != runs {
		t.Errorf("the database has %s DAG runs after its restart, %s before: its data did not outlive its pod", after, runs)
	}
	faultFigure("database restarted (pod deleted)", dbRecovered, retries, dbRestarts, lost)
}

// TestE2EKindFaults is the full fault set (make e2e-kind-faults; make test runs the worker kill, the
// scheduler deletion and the database restart inside TestE2EKindWeatherRelease): a KubernetesExecutor
// task pod killed hard, the api-server deleted, a Celery group rolled by an upgrade while its task
// runs, and the labelled node drained with real evictions, each on a run with a task in every group.
func TestE2EKindFaults(t *testing.T) {
	kindOnly(t)
	if os.Getenv("AIRKUBE_KIND_FAULTS") == "" {
		t.Skip("the full fault set: make e2e-kind-faults")
	}
	const name = "weather-etl"
	spec := filepath.Join(repoRoot, "values", "weather-etl.yaml")
	kindOverlay := filepath.Join(repoRoot, "overlays", "kind", "overlay.yaml")
	res := renderWith(t, spec, []string{kindOverlay})
	figure(t, "kind weather-etl by-hand steps", runKindByHand(t))
	defer helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")

	t.Run("a KubernetesExecutor task pod killed hard mid-task", func(t *testing.T) {
		run := startFaultRun(t, res, "e2e-fault-taskpod-"+runSuffix, time.Minute)
		before := restartCounts(t, name)
		deletePod(t, kindNS, podOf(t, kindNS, "kubernetes_executor=True,task_id=hold_fortran"), true)
		killed := time.Now()
		next := nextTry(t, run, "hold_fortran")
		tries, retries, lost := run.outcome(t)
		if tries["hold_fortran"] != 2 || retries != 1 {
			t.Errorf("tries %v, want 2 for hold_fortran (its pod was killed) and 1 for the rest", tries)
		}
		faultFigure("KubernetesExecutor task pod killed hard", next.Sub(killed), retries, restartsSince(t, name, before), lost)
	})

	// 3.x tasks reach the api-server for everything: with one replica they ride out its restart on
	// their retries (workers.execution_api_retries); with two, the other serves them meanwhile.
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("the api-server deleted while 3.x tasks run (%d replicas)", replicas), func(t *testing.T) {
			current := res
			if replicas != 1 {
				current = renderWith(t, spec, []string{kindOverlay}, fmt.Sprintf("components: {apiServer: {replicas: %d}}", replicas))
				helmInstall(t, current)
				defer helmInstall(t, res)
			}
			run := startFaultRun(t, current, fmt.Sprintf("e2e-fault-api%d-%s", replicas, runSuffix), 90*time.Second)
			before := restartCounts(t, name)
			api := podOf(t, kindNS, "app.kubernetes.io/instance="+name+",app.kubernetes.io/component=api-server")
			deletePod(t, kindNS, api, false)
			start := time.Now()
			podGone(t, kindNS, api)
			deploymentsReady(t, name, 3*time.Minute)
			recovered := time.Since(start)
			tries, retries, lost := run.outcome(t)
			firstTryOnly(t, tries, "its calls must outlast the api-server's restart")
			faultFigure("api-server deleted ("+map[int]string{1: "1 replica", 2: "2 replicas"}[replicas]+")", recovered, retries, restartsSince(t, name, before), lost)
		})
	}

	t.Run("one of two schedulers deleted: the other keeps scheduling", func(t *testing.T) {
		two := renderWith(t, spec, []string{kindOverlay}, "components: {scheduler: {replicas: 2}}")
		helmInstall(t, two)
		defer helmInstall(t, res)
		run := startFaultRun(t, two, "e2e-fault-scheduler2-"+runSuffix, untilReleased)
		before := restartCounts(t, name)
		gone, goneIP, start := deleteScheduler(t, name)
		// The other scheduler heartbeats on without a gap, and a run triggered now is scheduled by it.
		heartbeats(t, []string{"SchedulerJob"}, "now() - interval '15 seconds'", "hostname <> '"+goneIP+"'", time.Minute)
		figure(t, "kind fault one of two schedulers deleted: the other's heartbeat seen", time.Since(start))
		quick := "e2e-fault-scheduler2-quick-" + runSuffix
		triggerRun(t, name, "airflow", "airkube_e2e_faults", quick, "--conf", `{"seconds": 1}`)
		if state, took := waitRun(t, "airflow", "airkube_e2e_faults", quick, 5*time.Minute); state != "success" {
			t.Errorf("a run triggered right after one of two schedulers went ended %s", state)
		} else {
			figure(t, "kind fault one of two schedulers deleted: a run triggered then, to success", took)
		}
		podGone(t, kindNS, gone)
		deploymentsReady(t, name, 3*time.Minute)
		recovered := time.Since(start)
		tries, retries, lost := run.outcome(t)
		firstTryOnly(t, tries, "the other scheduler kept its tasks")
		faultFigure("one of two schedulers deleted", recovered, retries, restartsSince(t, name, before), lost)
	})

	t.Run("an upgrade rolls a Celery group while its task runs: the task ends on its old worker", func(t *testing.T) {
		run := startFaultRun(t, res, "e2e-fault-roll-"+runSuffix, time.Minute)
		old := podOf(t, kindNS, "app.kubernetes.io/instance="+name+",airkube.dev/task-group=default")
		oldIP := podIP(t, kindNS, old)
		before := restartCounts(t, name)
		changed := renderWith(t, spec, []string{kindOverlay},
			"taskGroups: [{name: default, resources: {requests: {cpu: 60m, memory: 128Mi}, limits: {memory: 1Gi}}}]")
		start := time.Now()
		helmInstall(t, changed)
		podGone(t, kindNS, old)
		gone := time.Since(start)
		tries, retries, lost := run.outcome(t)
		if ti := taskInstances(t, "airflow", "airkube_e2e_faults", run.id)["hold_default"]; ti.hostname != oldIP || tries["hold_default"] != 1 {
			t.Errorf("hold_default ran on %s in %d tries, want one try on the old worker %s (warm shutdown)", ti.hostname, tries["hold_default"], oldIP)
		}
		faultFigure("Celery group rolled by an upgrade mid-task (old worker gone after its task)", gone, retries, restartsSince(t, name, before), lost)
		helmInstall(t, res)
	})

	t.Run("a roll outlasting the grace period ends its task visibly: killed, then retried", func(t *testing.T) {
		// A pod is stopped within its own grace period: the short one must be in place before the roll.
		short := "taskGroups: [{name: default, terminationGracePeriodSeconds: 20}]"
		helmInstall(t, renderWith(t, spec, []string{kindOverlay}, short))
		defer helmInstall(t, res)
		run := startFaultRun(t, res, "e2e-fault-grace-"+runSuffix, 2*time.Minute)
		old := podOf(t, kindNS, "app.kubernetes.io/instance="+name+",airkube.dev/task-group=default")
		start := time.Now()
		helmInstall(t, renderWith(t, spec, []string{kindOverlay}, short,
			"taskGroups: [{name: default, resources: {requests: {cpu: 60m, memory: 128Mi}, limits: {memory: 1Gi}}}]"))
		podGone(t, kindNS, old)
		killed := time.Since(start)
		next := nextTry(t, run, "hold_default")
		tries, retries, lost := run.outcome(t)
		if tries["hold_default"] != 2 {
			t.Errorf("tries %v, want 2 for hold_default: killed at the end of the grace period, then retried", tries)
		}
		fmt.Printf("FIGURE kind fault roll past a 20 s grace period: old worker gone after %.1f s, next try running %.1f s after the upgrade\n",
			killed.Seconds(), next.Sub(start).Seconds())
		faultFigure("Celery group rolled with a task longer than its grace period", next.Sub(start), retries, nil, lost)
	})

	t.Run("the gis group scales out with 40 queued tasks (KEDA)", func(t *testing.T) {
		assertQueueScaling(t, res, 40)
	})

	t.Run("Redis restarted while a task waits in its queue: the queue outlives it", func(t *testing.T) {
		if res.Release.Broker.Redis.Persistence == nil {
			t.Fatal("the kind release's Redis keeps no queue on disk (broker.redis.persistence)")
		}
		// The gis group sleeps at zero workers: its task waits in Redis until KEDA wakes one.
		waitReplicas(t, kindNS, name+"-worker-gis", 0, 5*time.Minute)
		run := &faultRun{release: name, id: "e2e-fault-redis-" + runSuffix, tasks: len(res.Release.TaskGroups)}
		triggerRun(t, name, "airflow", "airkube_e2e_faults", run.id, "--conf", `{"seconds": 30}`)
		if err := poll(5*time.Minute, func() (bool, error) {
			return taskInstances(t, "airflow", "airkube_e2e_faults", run.id)["hold_gis"].state == "queued", nil
		}); err != nil {
			t.Fatalf("hold_gis was never queued: %v", err)
		}
		before := restartCounts(t, name)
		deletePod(t, kindNS, podOf(t, kindNS, "app.kubernetes.io/instance="+name+",app.kubernetes.io/component=redis"), false)
		start := time.Now()
		if err := poll(20*time.Minute, func() (bool, error) {
			s := taskInstances(t, "airflow", "airkube_e2e_faults", run.id)["hold_gis"].state
			return s == "running" || s == "success", nil
		}); err != nil {
			t.Fatalf("the task queued when Redis restarted never ran: %v", err)
		}
		ran := time.Since(start)
		tries, retries, lost := run.outcome(t)
		// Lost with the old Redis, the message would be sent again only after task_queued_timeout.
		if timeout := 600 * time.Second; ran >= timeout {
			t.Errorf("the task queued when Redis restarted ran %s later, past scheduler.task_queued_timeout (%s): its message did not outlive Redis", ran, timeout)
		}
		fmt.Printf("FIGURE kind fault Redis restarted: the task it held queued ran %.1f s later, from the queue Redis kept on disk; tries %v\n", ran.Seconds(), tries)
		faultFigure("Redis restarted with a task queued", ran, retries, restartsSince(t, name, before), lost)
	})

	// The KubernetesExecutor makes worker_pods_creation_batch_size pods per scheduler loop (Airflow: 1).
	// At Airflow's 1 pod per loop, 3 runs of 201 tasks; the comparison with 8 ran 3 runs of 60, where it was
	// measured when airkube kept Airflow's default (README, "What a release survives").
	t.Run("load: 3 runs at once of 201 tasks (67 per group), and 3 of 60 with 8 pods made per scheduler loop", func(t *testing.T) {
		steadyDatabase(t, name)
		assertLoad(t, res, "batch 1", 3, 67)
		batch := renderWith(t, spec, []string{kindOverlay}, "airflow: {config: {kubernetes_executor: {worker_pods_creation_batch_size: '8'}}}")
		helmInstall(t, batch)
		defer helmInstall(t, res)
		assertLoad(t, batch, "batch 8", 3, 20)
	})

	t.Run("the labelled node drained while a Fortran task runs there", func(t *testing.T) {
		run := startFaultRun(t, res, "e2e-fault-drain-"+runSuffix, time.Minute)
		before := restartCounts(t, name)
		node := legacyNode(t)
		start := time.Now()
		evicted := drain(t, node)
		// The Fortran group runs only on this node: its next try waits for it to come back.
		uncordon(t, node)
		next := nextTry(t, run, "hold_fortran")
		tries, retries, lost := run.outcome(t)
		deploymentsReady(t, name, 5*time.Minute)
		fmt.Printf("FIGURE kind fault node drain: %d pods evicted (%s); Fortran task's next try after %.1f s\n",
			len(evicted), strings.Join(evicted, ", "), next.Sub(start).Seconds())
		if tries["hold_fortran"] < 2 {
			t.Errorf("tries %v: the Fortran task's pod was evicted, want a second try", tries)
		}
		faultFigure("node drained (kubectl drain: cordon, evictions honouring PDBs, uncordon)", time.Since(start), retries, restartsSince(t, name, before), lost)
	})
}

// nextTry waits until a task of the run is on its second try or later (running or done), and returns when.
func nextTry(t *testing.T, run *faultRun, task string) time.Time {
	t.Helper()
	if err := poll(8*time.Minute, func() (bool, error) {
		rows := psql(t, "airflow", "SELECT try_number, coalesce(state, '') FROM task_instance WHERE dag_id = 'airkube_e2e_faults' AND run_id = '"+run.id+"' AND task_id = '"+task+"'")
		return len(rows) == 1 && rows[0][0] != "1" && (rows[0][1] == "running" || rows[0][1] == "success"), nil
	}); err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("%s never started its next try: %v", task, err)
	}
	return time.Now()
}

// drain does what `kubectl drain --ignore-daemonsets --delete-emptydir-data` does: cordons the node,
// evicts every pod on it but DaemonSets' (retrying while a PodDisruptionBudget refuses), and waits
// until they are gone. It returns the pods it evicted.
func drain(t *testing.T, node string) []string {
	t.Helper()
	ctx := context.Background()
	setUnschedulable(t, node, true)
	pods, err := cluster.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		t.Fatal(err)
	}
	var evicted []string
	uids := map[string]types.UID{}
	for _, p := range pods.Items {
		if ref := metav1.GetControllerOf(&p); (ref != nil && ref.Kind == "DaemonSet") || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
			continue
		}
		eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
		if err := poll(5*time.Minute, func() (bool, error) {
			err := cluster.client.CoreV1().Pods(p.Namespace).EvictV1(ctx, eviction)
			return err == nil || apierrors.IsNotFound(err), nil // 429: a PDB holds it for now
		}); err != nil {
			t.Fatalf("evicting %s/%s: %v", p.Namespace, p.Name, err)
		}
		evicted = append(evicted, p.Namespace+"/"+p.Name)
		uids[p.Namespace+"/"+p.Name] = p.UID
	}
	for _, name := range evicted {
		ns, pod, _ := strings.Cut(name, "/")
		podGone(t, ns, pod, uids[name])
	}
	return evicted
}

// podGone waits until the pod with this name and UID no longer exists (a StatefulSet's replacement has
// the same name; a Celery worker's warm shutdown may take its grace period). No UID: the one there now.
func podGone(t *testing.T, ns, name string, uid ...types.UID) {
	t.Helper()
	if len(uid) == 0 {
		p, err := cluster.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		uid = append(uid, p.UID)
	}
	if err := poll(11*time.Minute, func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && p.UID != uid[0]), nil
	}); err != nil {
		t.Fatalf("pod %s/%s is still there: %v", ns, name, err)
	}
}

func uncordon(t *testing.T, node string) { t.Helper(); setUnschedulable(t, node, false) }

func setUnschedulable(t *testing.T, node string, on bool) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, on)
	if _, err := cluster.client.CoreV1().Nodes().Patch(context.Background(), node, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// assertLoad runs airkube_e2e_load (tasks that do nothing, perGroup in each group) runs times at once
// and prints what a user sizing a release asks: tasks per minute, and per executor the time from
// queued to running (p50, p99) from Airflow's own task-instance timestamps. Every task must succeed,
// and no container may restart (an OOM kill would be one).
func assertLoad(t *testing.T, res *render.Result, label string, runs, perGroup int) {
	t.Helper()
	release := res.Release.Metadata.Name
	before := restartCounts(t, release)
	var ids []string
	for i := range runs {
		id := fmt.Sprintf("e2e-load-%s-%d-%s", strings.ReplaceAll(label, " ", ""), i, runSuffix)
		triggerRun(t, release, "airflow", "airkube_e2e_load", id, "--conf", fmt.Sprintf(`{"tasks": %d}`, perGroup))
		ids = append(ids, id)
	}
	for _, id := range ids {
		if state, _ := waitRun(t, "airflow", "airkube_e2e_load", id, 30*time.Minute); state != "success" {
			t.Errorf("load run %s ended %s", id, state)
		}
	}
	executor := map[string]string{}
	for _, g := range res.Release.TaskGroups {
		executor["load_"+g.Name] = g.Executor
	}
	rows := psql(t, "airflow", "SELECT task_id, coalesce(state, ''), extract(epoch from queued_dttm), extract(epoch from start_date),"+
		" extract(epoch from end_date) FROM task_instance WHERE dag_id = 'airkube_e2e_load' AND task_id LIKE 'load\\_%' AND run_id IN ('"+strings.Join(ids, "', '")+"')")
	waits := map[string][]float64{}
	first, last := 0.0, 0.0
	for _, r := range rows {
		if r[1] != "success" {
			t.Errorf("load task %s: %s", r[0], r[1])
			continue
		}
		queued, _ := strconv.ParseFloat(r[2], 64)
		started, _ := strconv.ParseFloat(r[3], 64)
		ended, _ := strconv.ParseFloat(r[4], 64)
		waits[executor[r[0]]] = append(waits[executor[r[0]]], started-queued)
		if first == 0 || queued < first {
			first = queued
		}
		last = max(last, ended)
	}
	if want := runs * perGroup * len(res.Release.TaskGroups); len(rows) != want {
		t.Errorf("the load runs have %d mapped task instances, want %d", len(rows), want)
	}
	if restarts := restartsSince(t, release, before); len(restarts) > 0 {
		t.Errorf("containers restarted under load: %v", restarts)
	}
	fmt.Printf("FIGURE kind load (%s): %d tasks (%d runs at once, %d per group) in %.1f s: %.0f tasks per minute\n",
		label, len(rows), runs, perGroup, last-first, float64(len(rows))/(last-first)*60)
	for _, e := range slices.Sorted(maps.Keys(waits)) {
		w := waits[e]
		sort.Float64s(w)
		fmt.Printf("FIGURE kind load (%s) %s queued to running: p50 %.1f s, p99 %.1f s (%d tasks)\n", label, e, w[len(w)/2], w[(len(w)*99)/100], len(w))
	}
	// The exporter's summary covers its last 10 minutes: the load's end.
	sd := scrapers(release)[0]
	prom := portForwardPod(t, "monitoring", podOf(t, "monitoring", sd.pods), 9090)
	fmt.Printf("FIGURE kind load (%s) scheduler loop time at its end (Prometheus): %s\n", label, schedulerLoopTime(t, prom, sd.sel))
}
