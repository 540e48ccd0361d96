//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// probeNS is the namespace of the pod that tries the release from outside it.
const probeNS = "airkube-probe"

// connectScript tries a TCP connection to each host:port argument, 3 s each, and prints one line per
// target: "host:port open" or "host:port closed <why>".
const connectScript = `import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        print(target, "open")
    except OSError as e:
        print(target, "closed", type(e).__name__)
`

// connects runs connectScript in container of pod in ns and returns each target's "open" or "closed".
func connects(t *testing.T, ns, pod, container string, targets ...string) map[string]string {
	t.Helper()
	out, err := execIn(ns, pod, container, append([]string{"python3", "-c", connectScript}, targets...)...)
	if err != nil {
		t.Fatalf("connecting from %s/%s: %v\n%s", ns, pod, err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			got[f[0]] = f[1]
		}
	}
	return got
}

// assertNetworkPoliciesEnforced proves the release's NetworkPolicies with real connections on the kind
// cluster, whose kube-router enforces them (hack/kind/kube-router.yaml): from a pod in another namespace,
// Redis, the api-server, a Celery worker's and the triggerer's log servers are closed, while the
// database stand-in (no policy) and the exporter's metrics port (open to every namespace, for
// Prometheus) are open, so the closed ones are closed by policy and not by the network. From inside the
// release, a worker reaches Redis and the api-server's execution API, and the api-server reaches the
// log servers of the worker and the triggerer (where it reads a running task's log).
func assertNetworkPoliciesEnforced(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	podIP := func(selector string) string {
		t.Helper()
		p, err := cluster.client.CoreV1().Pods(kindNS).Get(ctx, podOf(t, kindNS, "app.kubernetes.io/instance="+release+","+selector), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status.PodIP
	}
	redis := release + "-redis." + kindNS + ":6379"
	api := release + "-api-server." + kindNS + ":8080"
	worker := podIP("airkube.dev/task-group=default") + ":8793"
	triggerer := podIP("app.kubernetes.io/component=triggerer") + ":8794"
	database := "postgres." + kindNS + ":5432"
	metrics := release + "-statsd." + kindNS + ":9102"

	startProbe(t, release)

	want := map[string]string{redis: "closed", api: "closed", worker: "closed", triggerer: "closed", database: "open", metrics: "open"}
	start := time.Now()
	var got map[string]string
	// kube-router applies a new pod's rules within its sync; the first answer may come before that.
	if err := poll(time.Minute, func() (bool, error) {
		got = connects(t, probeNS, "probe", "probe", redis, api, worker, triggerer, database, metrics)
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	}); err != nil {
		t.Errorf("from namespace %s: %v, want %v", probeNS, got, want)
	}
	figure(t, "kind NetworkPolicies: from another namespace, the release's ports closed and the open ones open", time.Since(start))

	from := func(selector, container string, targets ...string) {
		t.Helper()
		pod := podOf(t, kindNS, "app.kubernetes.io/instance="+release+","+selector)
		for target, state := range connects(t, kindNS, pod, container, targets...) {
			if state != "open" {
				t.Errorf("from %s (%s): %s is %s, want open", pod, selector, target, state)
			}
		}
	}
	from("airkube.dev/task-group=default", "worker", redis, api)
	from("app.kubernetes.io/component=api-server", "api-server", worker, triggerer)
}

// startProbe starts a pod in probeNS from the release's own image, with the release's labels, and waits
// until it runs. It goes with the test.
func startProbe(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	_, err := cluster.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: probeNS}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// Gone before the next test starts its own probe (a terminating namespace takes no pods).
	t.Cleanup(func() {
		_ = cluster.client.CoreV1().Namespaces().Delete(context.Background(), probeNS, metav1.DeleteOptions{})
		_ = poll(2*time.Minute, func() (bool, error) {
			_, err := cluster.client.CoreV1().Namespaces().Get(context.Background(), probeNS, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	})
	uid := int64(50000)
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Labels: map[string]string{
		// The release's labels, which its policies' podSelectors match, do not let a pod of another
		// namespace in: a podSelector alone selects pods of the policy's namespace.
		"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": release}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "probe", Image: "airkube.local/airflow:3.3.2", ImagePullPolicy: corev1.PullNever,
				Command: []string{"python3", "-c", "import time; time.sleep(1e9)"}}},
			SecurityContext:               &corev1.PodSecurityContext{RunAsUser: &uid, RunAsNonRoot: ptr.To(true)},
			TerminationGracePeriodSeconds: ptr.To(int64(0)),
		}}
	if _, err := cluster.client.CoreV1().Pods(probeNS).Create(ctx, probe, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := poll(3*time.Minute, func() (bool, error) {
		p, err := cluster.client.CoreV1().Pods(probeNS).Get(ctx, "probe", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning, nil
	}); err != nil {
		t.Fatalf("the probe pod did not start: %v", err)
	}
}
