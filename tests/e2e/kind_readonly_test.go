//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// assertReadOnlyRoots checks, in every running pod of the release's Deployments, that each container's
// root filesystem is read-only for real: writing to / fails with the kernel's "Read-only file system",
// and in the Airflow pods writing to /tmp (their emptyDir) works; Redis and the exporter write nowhere
// else than their volumes, so their /tmp is read-only too. Containers without a shell are checked by
// their spec only; each component must have had one written to. Task pods come and go: the DAG runs
// show they work with their read-only roots, and the invariants that their template sets it.
func assertReadOnlyRoots(t *testing.T, release string) {
	t.Helper()
	pods, err := cluster.client.CoreV1().Pods(kindNS).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil {
		t.Fatal(err)
	}
	tried := map[string]bool{} // component -> a container of it was written to
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		component := p.Labels["app.kubernetes.io/component"]
		if component == "task" || component == "" {
			continue
		}
		airflow := component != "redis" && component != "statsd"
		for _, c := range p.Spec.Containers {
			if s := c.SecurityContext; s == nil || s.ReadOnlyRootFilesystem == nil || !*s.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: readOnlyRootFilesystem is not set", p.Name, c.Name)
			}
			out, err := execIn(kindNS, p.Name, c.Name, "sh", "-c",
				`touch /airkube-probe 2>&1; touch /tmp/airkube-probe 2>&1 && rm /tmp/airkube-probe && echo tmp-writable; true`)
			if err != nil && strings.Contains(err.Error(), "executable file not found") {
				continue
			}
			tried[component] = true
			root := strings.Contains(out, "cannot touch '/airkube-probe': Read-only file system")
			tmp := strings.Contains(out, "tmp-writable")
			if err != nil || !root || tmp != airflow {
				t.Errorf("%s/%s: writing to / and to /tmp gave %q (%v); want / refused as read-only, and /tmp writable only in an Airflow pod", p.Name, c.Name, out, err)
			}
		}
	}
	for _, c := range []string{"api-server", "scheduler", "dag-processor", "triggerer", "worker", "redis", "statsd"} {
		if !tried[c] {
			t.Errorf("no running %s container was written to (components tried: %v)", c, tried)
		}
	}
	fmt.Printf("FIGURE kind read-only root filesystems: writes to / refused in the running containers of %d components, /tmp writable in the Airflow ones\n", len(tried))
}
