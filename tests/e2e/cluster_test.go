//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// cluster is the cluster under test, shared by every test of the suite.
var cluster struct {
	kubeconfig string
	// kind is true on a kind cluster (real nodes), false on the local kwok one.
	kind    bool
	config  *rest.Config
	client  kubernetes.Interface
	dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// fakeNodes are the nodes the task groups' nodeSelectors and tolerations aim at.
var fakeNodes = []struct {
	name   string
	labels map[string]string
	taints []corev1.Taint
}{
	{name: "e2e-general"},
	{name: "e2e-general-2"},
	{name: "e2e-gis", labels: map[string]string{"pool": "gis"}, taints: []corev1.Taint{{Key: "dedicated", Value: "gis", Effect: corev1.TaintEffectNoSchedule}}},
	{name: "e2e-legacy", labels: map[string]string{"pool": "legacy"}, taints: []corev1.Taint{{Key: "legacy", Effect: corev1.TaintEffectNoSchedule}}},
}

func TestMain(m *testing.M) {
	cluster.kubeconfig = os.Getenv("AIRKUBE_KUBECONFIG")
	if cluster.kubeconfig == "" {
		fmt.Println("e2e: AIRKUBE_KUBECONFIG is not set; run `make e2e`, which starts a local cluster")
		os.Exit(0)
	}
	cluster.kind = os.Getenv("AIRKUBE_E2E_CLUSTER") == "kind"
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func setup() error {
	var err error
	cluster.config, err = clientcmd.BuildConfigFromFlags("", cluster.kubeconfig)
	if err != nil {
		return err
	}
	cluster.config.QPS, cluster.config.Burst = 100, 200
	if cluster.client, err = kubernetes.NewForConfig(cluster.config); err != nil {
		return err
	}
	if cluster.dynamic, err = dynamic.NewForConfig(cluster.config); err != nil {
		return err
	}
	if err := installCRDs(os.Getenv("AIRKUBE_CRDS")); err != nil {
		return fmt.Errorf("installing the CRDs of airkube's options: %w", err)
	}
	cluster.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cluster.client.Discovery()))
	return ensureNodes()
}

// crdAPIs are the API group versions the CRDs of airkube's options serve (hack/cluster/crds.sh).
var crdAPIs = []string{"keda.sh/v1alpha1", "gateway.networking.k8s.io/v1", "monitoring.coreos.com/v1"}

// installCRDs applies the CRDs hack/cluster/crds.sh gathers from their projects' Go modules (KEDA,
// the Gateway API, prometheus-operator) and waits until they serve.
func installCRDs(dir string) error {
	if dir == "" {
		return fmt.Errorf("AIRKUBE_CRDS is not set (make e2e sets it)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s", dir)
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		_, err = cluster.dynamic.Resource(crds).Create(context.Background(), &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	for _, api := range crdAPIs {
		if err := poll(time.Minute, func() (bool, error) {
			_, err := cluster.client.Discovery().ServerResourcesForGroupVersion(api)
			return err == nil, nil
		}); err != nil {
			return fmt.Errorf("%s is not served: %w", api, err)
		}
	}
	return nil
}

// createObject creates a rendered or written object through the dynamic client: in ns when its kind
// is namespaced, cluster-wide otherwise.
func createObject(obj *unstructured.Unstructured, ns string, opts metav1.CreateOptions) error {
	gvk := obj.GroupVersionKind()
	mapping, err := cluster.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("the cluster does not serve this kind: %w", err)
	}
	ri := cluster.dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		_, err = ri.Namespace(ns).Create(context.Background(), obj, opts)
	} else {
		_, err = ri.Create(context.Background(), obj, opts)
	}
	return err
}

// ensureNodes creates the fake kwok nodes; on kind it checks that hack/kind labelled its worker
// pool=legacy, as `make kind-up` gives it to a user too (the suite adds nothing a user lacks).
func ensureNodes() error {
	ctx := context.Background()
	if cluster.kind {
		nodes, err := cluster.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "pool=legacy,!node-role.kubernetes.io/control-plane"})
		if err != nil {
			return err
		}
		if len(nodes.Items) != 1 {
			return fmt.Errorf("the kind cluster has %d workers labelled pool=legacy, want 1 (hack/kind/main.go labels it)", len(nodes.Items))
		}
		return nil
	}
	for _, fn := range fakeNodes {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fn.name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
				Labels: merge(map[string]string{"type": "kwok", "kubernetes.io/hostname": fn.name}, fn.labels)},
			Spec: corev1.NodeSpec{Taints: fn.taints},
		}
		if _, err := cluster.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return poll(2*time.Minute, func() (bool, error) {
		for _, fn := range fakeNodes {
			n, err := cluster.client.CoreV1().Nodes().Get(ctx, fn.name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			ready := false
			for _, c := range n.Status.Conditions {
				ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
			}
			if !ready {
				return false, nil
			}
		}
		return true, nil
	})
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// poll calls cond until it is true, fails, or timeout passes.
func poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// namespace creates a namespace that enforces the restricted Pod Security Standard and
// deletes it when the test ends.
func namespace(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}}}
	if _, err := cluster.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cluster.client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// userObjects creates what a user keeps outside the release: the database password (with
// every character that breaks naive URIs), the API CA and existing claims.
func userObjects(t *testing.T, ns string, claims ...string) {
	t.Helper()
	ctx := context.Background()
	core := cluster.client.CoreV1()
	_, err := core.Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "airflow-db"},
		StringData: map[string]string{"password": "p@ss:w/rd%#?&"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	_, err = core.ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cluster-ca"},
		Data: map[string]string{"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, c := range claims {
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + c},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				StorageClassName:              "",
				ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: c},
				PersistentVolumeSource:        corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nas.example.com", Path: "/" + c}},
			}}
		if _, err := core.PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		empty := ""
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: c}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			StorageClassName: &empty, VolumeName: pv.Name,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")}},
		}}
		if _, err := core.PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = core.PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{}) })
	}
}

// provisioned is what a StorageClass' provisioner would make for a claim the chart makes with the
// cluster's default class (kwok runs no provisioner): a ReadWriteOnce volume bound to it in advance.
func provisioned(t *testing.T, ns, claim string) {
	t.Helper()
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + claim},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: mustQuantity("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: claim},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/provisioned/" + ns + "-" + claim}},
		}}
	if _, err := cluster.client.CoreV1().PersistentVolumes().Create(context.Background(), pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.client.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
}

// sanitize turns a case name into a namespace name.
func sanitize(s string) string {
	s = strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(s))
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Trim(s, "-")
}
