//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/render"
)

func list(t *testing.T, ns, selector string) metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: selector}
}

// generations maps each Deployment of a release to a hash of its pod template: an unchanged hash
// means no rollout.
func generations(t *testing.T, ns, release string) map[string]string {
	t.Helper()
	ds, err := cluster.client.AppsV1().Deployments(ns).List(context.Background(), list(t, ns, "app.kubernetes.io/instance="+release))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds.Items {
		// The pod template, not the generation: an autoscaler changing replicas (KEDA scaling the gis
		// group in after a run) bumps the generation but rolls nothing.
		data, err := json.Marshal(d.Spec.Template)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out[d.Name] = hex.EncodeToString(sum[:8])
	}
	return out
}

// rolled lists, sorted, the Deployments whose pod template changed between two generations calls.
func rolled(before, after map[string]string) []string {
	var out []string
	for d, g := range after {
		if before[d] != g {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// migrationJobs are the release's migration Jobs, sorted by name.
func migrationJobs(ns, release string) ([]batchv1.Job, error) {
	jobs, err := cluster.client.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=migrate"})
	if err != nil {
		return nil, err
	}
	sort.Slice(jobs.Items, func(i, j int) bool { return jobs.Items[i].Name < jobs.Items[j].Name })
	return jobs.Items, nil
}

func secretData(t *testing.T, ns string, names ...string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, n := range names {
		s, err := cluster.client.CoreV1().Secrets(ns).Get(context.Background(), n, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("secret %s: %v", n, err)
		}
		out[n] = s.Data
	}
	return out
}

// assertReady checks what --wait promised, from the cluster's side: every Deployment
// available, the migration Job complete, every generated claim bound to its volume.
func assertReady(t *testing.T, res *render.Result) {
	t.Helper()
	ctx := context.Background()
	ns, name := res.Release.Metadata.Namespace, res.Release.Metadata.Name
	ds, err := cluster.client.AppsV1().Deployments(ns).List(ctx, list(t, ns, "app.kubernetes.io/instance="+name))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Items) == 0 {
		t.Fatalf("release %s has no Deployments", name)
	}
	for _, d := range ds.Items {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if d.Status.AvailableReplicas < want || d.Status.UpdatedReplicas < want {
			t.Errorf("Deployment %s: %d available, %d updated, want %d", d.Name, d.Status.AvailableReplicas, d.Status.UpdatedReplicas, want)
		}
	}
	jobs, err := migrationJobs(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	// One Job migrated the release; others may be refused or failed tries, kept for kubectl logs.
	var complete []string
	for _, j := range jobs {
		if jobComplete(j) {
			complete = append(complete, j.Name)
		}
	}
	if len(complete) != 1 {
		t.Errorf("want one complete migration Job, got %v of %d", complete, len(jobs))
	}
	claims, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).List(ctx, list(t, ns, "app.kubernetes.io/instance="+name+",app.kubernetes.io/component=storage"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims.Items {
		if c.Status.Phase != corev1.ClaimBound || c.Spec.VolumeName != ns+"-"+c.Name {
			t.Errorf("claim %s is %s on volume %q, want Bound on %s", c.Name, c.Status.Phase, c.Spec.VolumeName, ns+"-"+c.Name)
		}
	}
}

func jobComplete(j batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// assertGroupPods checks that each Celery group's pods run its image on nodes its
// nodeSelector and tolerations allow.
func assertGroupPods(t *testing.T, res *render.Result, wantNode map[string]string) {
	t.Helper()
	ns := res.Release.Metadata.Namespace
	for _, g := range res.Release.TaskGroups {
		if g.Executor != "CeleryExecutor" {
			continue
		}
		pods, err := cluster.client.CoreV1().Pods(ns).List(context.Background(), list(t, ns, "airkube.dev/task-group="+g.Name))
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) == 0 {
			t.Errorf("task group %s has no pods", g.Name)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			if img := p.Spec.Containers[0].Image; img != g.Image {
				t.Errorf("group %s pod %s runs %s, want %s", g.Name, p.Name, img, g.Image)
			}
			node := p.Spec.NodeName
			if want, ok := wantNode[g.Name]; ok && node != want {
				t.Errorf("group %s pod %s is on node %q, want %s", g.Name, p.Name, node, want)
			}
			if !ok(wantNode, g.Name) && (node == "e2e-gis" || node == "e2e-legacy") {
				t.Errorf("group %s pod %s landed on tainted node %s", g.Name, p.Name, node)
			}
		}
	}
}

func ok(m map[string]string, k string) bool { _, found := m[k]; return found }

// can asks the API server whether a service account may do verb on resource in ns.
func can(t *testing.T, sa, verb, resource, ns string) bool {
	t.Helper()
	resource, sub, _ := strings.Cut(resource, "/") // "pods/exec": a subresource
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               sa,
		Groups:             []string{"system:serviceaccounts", "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: resource, Subresource: sub},
	}}
	got, err := cluster.client.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Status.Allowed
}

// weatherOverlay points the gis group at its dedicated (tainted) nodes, so the test can
// see pods land where the group says.
const weatherOverlay = `
metadata: {namespace: e2e-weather}
taskGroups:
  - name: gis
    nodeSelector: {pool: gis}
    tolerations: [{key: dedicated, operator: Equal, value: gis, effect: NoSchedule}]
`

// TestE2EWeatherRelease installs the Celery+Kubernetes release on 3.3 with NAS storage and
// three task groups, then upgrades, uninstalls and reinstalls it.
func TestE2EWeatherRelease(t *testing.T) {
	kwokOnly(t)
	const ns, name = "e2e-weather", "weather-etl"
	namespace(t, ns)
	userObjects(t, ns)
	provisioned(t, ns, name+"-redis")
	spec := filepath.Join(repoRoot, "values", "weather-etl.yaml")
	res := renderWith(t, spec, nil, weatherOverlay)

	_, took := upgradeInstall(t, res)
	figure(t, "weather-etl install to ready", took)
	assertReady(t, res)
	assertGroupPods(t, res, map[string]string{"gis": "e2e-gis"})
	secrets := secretData(t, ns, "weather-etl-airflow", "weather-etl-redis")

	t.Run("least privilege", func(t *testing.T) {
		sched := "system:serviceaccount:" + ns + ":weather-etl-scheduler"
		for _, verb := range []string{"create", "delete", "watch", "patch"} {
			if !can(t, sched, verb, "pods", ns) {
				t.Errorf("scheduler may not %s pods in %s", verb, ns)
			}
		}
		for _, other := range []string{"default", "kube-system"} {
			if can(t, sched, "create", "pods", other) {
				t.Errorf("scheduler may create pods in %s", other)
			}
		}
		if can(t, sched, "get", "secrets", ns) || can(t, sched, "create", "deployments", ns) {
			t.Error("scheduler may read secrets or create deployments")
		}
		if can(t, "system:serviceaccount:"+ns+":weather-etl-airflow", "create", "pods", ns) {
			t.Error("the components' service account may create pods")
		}
		// kubernetesAPI.podOperators: the account of the pods that run tasks may run pods here only.
		kpo := "system:serviceaccount:" + ns + ":weather-etl-pod-operator"
		for _, verb := range []string{"create", "get", "watch", "delete"} {
			if !can(t, kpo, verb, "pods", ns) {
				t.Errorf("the pod-operator account may not %s pods in %s", verb, ns)
			}
		}
		// The fortran group's own identity (annotated ServiceAccount) runs pod operators too: same rights.
		fortran := "system:serviceaccount:" + ns + ":weather-etl-group-fortran"
		if !can(t, fortran, "create", "pods", ns) || can(t, fortran, "create", "pods", "default") || can(t, fortran, "list", "secrets", ns) {
			t.Error("the fortran group's account may not create pods here, or may elsewhere, or may list secrets")
		}
		if !can(t, kpo, "get", "pods/log", ns) {
			t.Error("the pod-operator account may not read its pods' logs")
		}
		if can(t, kpo, "create", "pods", "default") || can(t, kpo, "get", "secrets", ns) || can(t, kpo, "create", "pods/exec", ns) {
			t.Error("the pod-operator account may create pods elsewhere, read secrets or exec into pods")
		}
		if !can(t, sched, "get", "pods/log", ns) || can(t, sched, "create", "pods/exec", ns) {
			t.Error("the scheduler may not read task pods' logs, or may exec into pods")
		}
		crbs, err := cluster.client.RbacV1().ClusterRoleBindings().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range crbs.Items {
			for _, s := range b.Subjects {
				if s.Namespace == ns {
					t.Errorf("ClusterRoleBinding %s binds %s in the release's namespace", b.Name, s.Name)
				}
			}
		}
	})

	t.Run("upgrade without change rolls nothing", func(t *testing.T) {
		before := generations(t, ns, name)
		_, took := upgradeInstall(t, res)
		figure(t, "weather-etl upgrade without change", took)
		if after := generations(t, ns, name); !reflect.DeepEqual(before, after) {
			t.Errorf("generations changed: before %v, after %v", before, after)
		}
	})

	t.Run("one group's image rolls only that group", func(t *testing.T) {
		before := generations(t, ns, name)
		changed := renderWith(t, spec, nil, weatherOverlay, "taskGroups: [{name: gis, image: registry.example.com/weather/gdal-airflow:3.10}]")
		_, took := upgradeInstall(t, changed)
		figure(t, "weather-etl upgrade of one group's image", took)
		if got, want := rolled(before, generations(t, ns, name)), []string{"weather-etl-worker-gis"}; !reflect.DeepEqual(got, want) {
			t.Errorf("rolled %v, want %v", got, want)
		}
		assertGroupPods(t, changed, map[string]string{"gis": "e2e-gis"})
		res = changed
	})

	t.Run("airflow version change re-runs migrations", func(t *testing.T) {
		jobs := func() []string {
			js, err := cluster.client.BatchV1().Jobs(ns).List(context.Background(), list(t, ns, "app.kubernetes.io/component=migrate"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, j := range js.Items {
				names = append(names, j.Name)
			}
			return names
		}
		before := jobs()
		changed := renderWith(t, spec, nil, weatherOverlay, "airflow: {version: '3.3.1', image: 'apache/airflow:3.3.1'}")
		_, took := upgradeInstall(t, changed)
		figure(t, "weather-etl upgrade to a new Airflow version", took)
		after := jobs()
		if len(after) != 1 || reflect.DeepEqual(before, after) {
			t.Errorf("migration Jobs before %v, after %v: want one new Job", before, after)
		}
		assertReady(t, changed)
		res = changed
	})

	t.Run("changed NAS export gets new volumes, not an immutable-field error", func(t *testing.T) {
		changed := renderWith(t, spec, nil, weatherOverlay,
			"airflow: {version: '3.3.1', image: 'apache/airflow:3.3.1'}\nstorage: {dags: {nfs: {path: /airflow/dags-v2}}}")
		upgradeInstall(t, changed)
		assertReady(t, changed)
		pvs, err := cluster.client.CoreV1().PersistentVolumes().List(context.Background(), list(t, "", "app.kubernetes.io/instance="+name))
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, pv := range pvs.Items {
			if pv.Spec.NFS != nil && pv.Namespace == "" && strings.HasPrefix(pv.Name, ns+"-") {
				paths = append(paths, pv.Spec.NFS.Path)
			}
		}
		sort.Strings(paths)
		// The data volumes (grib, model-output, xcom) are NAS exports too, unchanged.
		want := []string{"/airflow/dags", "/airflow/dags-v2", "/airflow/logs"}
		for _, v := range changed.Release.Storage.Volumes {
			if v.NFS != nil {
				want = append(want, v.NFS.Path)
			}
		}
		sort.Strings(want)
		if len(want) < 6 || !reflect.DeepEqual(paths, want) {
			t.Errorf("NAS volumes export %v, want %v (the old one kept)", paths, want)
		}
		res = changed
	})

	t.Run("secrets never change across upgrades", func(t *testing.T) {
		if after := secretData(t, ns, "weather-etl-airflow", "weather-etl-redis"); !reflect.DeepEqual(secrets, after) {
			t.Error("generated secrets changed across upgrades")
		}
	})

	t.Run("uninstall keeps data; reinstall binds the same volumes", func(t *testing.T) {
		claims := func() map[string]string {
			cs, err := cluster.client.CoreV1().PersistentVolumeClaims(ns).List(context.Background(), list(t, ns, "app.kubernetes.io/component in (storage, redis)"))
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, c := range cs.Items {
				out[c.Name] = fmt.Sprintf("%s on %s (%s)", c.UID, c.Spec.VolumeName, c.Status.Phase)
			}
			return out
		}
		before := claims()
		// Redis' queue (broker.redis.persistence) is among them, as are the data volumes' claims,
		// bound like the DAG and log volumes'.
		if state := before[name+"-redis"]; !strings.HasSuffix(state, "(Bound)") {
			t.Errorf("Redis' claim %s-redis: %q, want Bound; claims %v", name, state, before)
		}
		if len(res.Release.Storage.Volumes) == 0 {
			t.Fatal("the weather spec has no data volumes to check")
		}
		for _, v := range res.Release.Storage.Volumes {
			found := false
			for claim, state := range before {
				found = found || (strings.HasPrefix(claim, name+"-data-"+v.Name+"-") && strings.HasSuffix(state, "(Bound)"))
			}
			if !found {
				t.Errorf("no bound claim for data volume %s: %v", v.Name, before)
			}
		}
		uninstall(t, name, ns)
		if after := claims(); !reflect.DeepEqual(before, after) {
			t.Errorf("claims after uninstall %v, want %v", after, before)
		}
		if after := secretData(t, ns, "weather-etl-airflow", "weather-etl-redis"); !reflect.DeepEqual(secrets, after) {
			t.Error("secrets changed or went away on uninstall")
		}
		_, took := upgradeInstall(t, res)
		figure(t, "weather-etl reinstall to ready", took)
		assertReady(t, res)
		if after := claims(); !reflect.DeepEqual(before, after) {
			t.Errorf("claims after reinstall %v, want the same %v", after, before)
		}
		if after := secretData(t, ns, "weather-etl-airflow", "weather-etl-redis"); !reflect.DeepEqual(secrets, after) {
			t.Error("reinstall changed the secrets")
		}
	})
}

// TestE2EKubernetes211 installs the Kubernetes-only release on Airflow 2.11 with existing claims.
func TestE2EKubernetes211(t *testing.T) {
	kwokOnly(t)
	const ns = "e2e-kx211"
	namespace(t, ns)
	userObjects(t, ns, "airflow-dags", "airflow-logs")
	res := renderWith(t, filepath.Join(repoRoot, "tests", "golden", "kubernetes-2.11", "spec.yaml"), nil, "metadata: {namespace: "+ns+"}")
	_, took := upgradeInstall(t, res)
	figure(t, "legacy-kx (2.11) install to ready", took)
	assertReady(t, res)
	if !can(t, "system:serviceaccount:"+ns+":legacy-kx-scheduler", "create", "pods", ns) {
		t.Error("the 2.11 scheduler may not create task pods")
	}
}
