//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/render"
)

// A queue-scaled task group on real pods: KEDA's operator and metrics API server (hack/kind/keda.sh, built
// from its Go module) read the group's queued and running tasks from the release's database, over TLS
// with the release's password, and scale the group's Celery workers.

// replicaWatch polls a task group's worker Deployment and pods every second: the peak replica count,
// when the ready count first reached each number, and the IP of every worker pod seen (Airflow records
// a Celery task's host as its worker's pod IP, core.hostname_callable).
type replicaWatch struct {
	mu      sync.Mutex
	peak    int32
	readyAt map[int32]time.Time
	pods    map[string]string    // pod IP -> pod name
	leaving map[string]time.Time // pod name -> when its deletion was first seen
	cancel  context.CancelFunc
	done    chan struct{}
}

func watchReplicas(ns, deployment, selector string) *replicaWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &replicaWatch{readyAt: map[int32]time.Time{}, pods: map[string]string{}, leaving: map[string]time.Time{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			d, err := cluster.client.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
			pods, perr := cluster.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
			w.mu.Lock()
			if err == nil {
				w.peak = max(w.peak, d.Status.Replicas)
				for n := int32(0); n <= d.Status.ReadyReplicas; n++ {
					if _, ok := w.readyAt[n]; !ok {
						w.readyAt[n] = time.Now()
					}
				}
			}
			if perr == nil {
				for _, p := range pods.Items {
					if p.Status.PodIP != "" {
						w.pods[p.Status.PodIP] = p.Name
					}
					if _, seen := w.leaving[p.Name]; p.DeletionTimestamp != nil && !seen {
						w.leaving[p.Name] = time.Now()
					}
				}
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return w
}

func (w *replicaWatch) stop() { w.cancel(); <-w.done }

// waitReplicas waits until the Deployment wants and runs exactly n ready pods, and returns how long that took.
func waitReplicas(t *testing.T, ns, name string, n int32, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	err := poll(timeout, func() (bool, error) {
		d, err := cluster.client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		spec := ptr.Deref(d.Spec.Replicas, -1) // -1: no replica count in the spec
		last = fmt.Sprintf("spec %d, status %d, ready %d", spec, d.Status.Replicas, d.Status.ReadyReplicas)
		return spec == n && d.Status.Replicas == n && d.Status.ReadyReplicas == n, nil
	})
	if err != nil {
		t.Fatalf("Deployment %s never ran exactly %d pods (last: %s): %v", name, n, last, err)
	}
	return time.Since(start)
}

// scaledObjectReady waits until KEDA has taken the ScaledObject: Ready once its scaler reached the
// database with the release's password (from the worker's own env) over TLS.
func scaledObjectReady(t *testing.T, ns, name string) {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}
	var conditions any
	err := poll(3*time.Minute, func() (bool, error) {
		so, err := cluster.dynamic.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		list, _, _ := unstructured.NestedSlice(so.Object, "status", "conditions")
		conditions = list
		for _, c := range list {
			if m, ok := c.(map[string]any); ok && m["type"] == "Ready" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("KEDA did not take ScaledObject %s: conditions %v: %v", name, conditions, err)
	}
}

// assertQueueScaling runs a run of airkube_e2e_scale (tasks of 20 s on the gis group, more than one worker
// takes at once) on a release whose gis group scales with its queue, and checks KEDA's work: the idle
// group at minReplicas, workers added while the tasks queue (and woken from zero), every task run once
// and successfully on a worker pod of the group, the tasks spread over more than one worker, and the
// group back at minReplicas once the queue is empty. Figures: time from queue to the first new worker
// Ready, peak replicas, time back to the minimum.
func assertQueueScaling(t *testing.T, res *render.Result, tasks int) {
	t.Helper()
	var g *v1alpha1.TaskGroup
	for i := range res.Release.TaskGroups {
		if tg := &res.Release.TaskGroups[i]; tg.Name == "gis" && tg.Autoscaling != nil {
			g = tg
		}
	}
	if g == nil || g.Autoscaling.Metric == "cpu" {
		t.Fatal("the release has no gis group that scales with its queue")
	}
	release := res.Release.Metadata.Name
	minimum, maximum := *g.Autoscaling.MinReplicas, g.Autoscaling.MaxReplicas
	dep := release + "-worker-" + g.Name
	scaledObjectReady(t, kindNS, dep)
	figure(t, fmt.Sprintf("kind KEDA %s idle to minReplicas=%d (after the last task)", g.Name, minimum), waitReplicas(t, kindNS, dep, minimum, 5*time.Minute))

	w := watchReplicas(kindNS, dep, "app.kubernetes.io/instance="+release+",airkube.dev/task-group="+g.Name)
	defer w.stop()
	run := fmt.Sprintf("e2e-scale%d-%s", tasks, runSuffix)
	queued := time.Now()
	triggerRun(t, release, "airflow", "airkube_e2e_scale", run, "--conf", fmt.Sprintf(`{"tasks": %d}`, tasks))
	state, took := waitRun(t, "airflow", "airkube_e2e_scale", run, 15*time.Minute)
	emptied := time.Now()
	if state != "success" {
		dumpPods(t, kindNS)
	}

	rows := psql(t, "airflow", "SELECT task_id, coalesce(state, ''), try_number, coalesce(hostname, ''),"+
		" extract(epoch from start_date), extract(epoch from end_date), map_index FROM task_instance WHERE dag_id = 'airkube_e2e_scale' AND task_id = 'load' AND run_id = '"+run+"'")
	w.stop() // the watch is over: its maps are ours to read
	pods, peak, leaving := w.pods, w.peak, w.leaving
	// The first worker a scale-out added: from zero, the one that woke; else one beyond the minimum.
	firstNew, scaledOut := w.readyAt[minimum+1]
	second, two := w.readyAt[2]
	used := map[string]bool{}
	// Tasks still running on a worker KEDA was already removing: Celery's warm shutdown lets them finish.
	finishedWhileLeaving := 0
	for _, r := range rows {
		start, _ := strconv.ParseFloat(r[4], 64)
		end, _ := strconv.ParseFloat(r[5], 64)
		if at, ok := leaving[pods[r[3]]]; ok && float64(at.UnixNano())/1e9 > start && float64(at.UnixNano())/1e9 < end {
			finishedWhileLeaving++
		}
		if tries, _ := strconv.Atoi(r[2]); r[1] != "success" || tries != 1 {
			t.Errorf("task %s[%s]: %s after %s tries, want success on the first", r[0], r[6], r[1], r[2])
		}
		if name, ok := pods[r[3]]; ok {
			used[name] = true
		} else {
			t.Errorf("task %s[%s] ran on %q, not on a pod of the %s group (%v)", r[0], r[6], r[3], g.Name, pods)
		}
	}
	if len(rows) != tasks {
		t.Errorf("the run has %d mapped task instances, want %d", len(rows), tasks)
	}
	if !scaledOut || !two || peak < 2 || peak > maximum {
		t.Errorf("the group peaked at %d replicas (a new worker ready: %v, two ready: %v), want 2 to %d while %d tasks queue at concurrency %d", peak, scaledOut, two, maximum, tasks, *g.Concurrency)
	}
	if len(used) < 2 {
		t.Errorf("the tasks ran on %d worker pod(s) (%v), want the new workers to take some", len(used), used)
	}
	if scaledOut {
		what := "the first new worker"
		if minimum == 0 {
			what = "the first worker (woken from zero)"
		}
		figure(t, fmt.Sprintf("kind KEDA %s from queue to %s Ready", g.Name, what), firstNew.Sub(queued))
	}
	if two {
		figure(t, fmt.Sprintf("kind KEDA %s from queue to two workers Ready", g.Name), second.Sub(queued))
	}
	fmt.Printf("FIGURE kind KEDA %s scale-in while tasks ran: %d of %d tasks were running on a worker being removed, and finished there on their first try\n",
		g.Name, finishedWhileLeaving, len(rows))
	fmt.Printf("FIGURE kind KEDA %s peak replicas: %d (maxReplicas %d, %d tasks at concurrency %d, on %d pods)\n", g.Name, peak, maximum, tasks, *g.Concurrency, len(used))
	figure(t, fmt.Sprintf("kind KEDA %s DAG run of %d tasks x 20 s", g.Name, tasks), took)
	waitReplicas(t, kindNS, dep, minimum, 6*time.Minute)
	figure(t, fmt.Sprintf("kind KEDA %s back to minReplicas=%d after the queue emptied", g.Name, minimum), time.Since(emptied))
}
