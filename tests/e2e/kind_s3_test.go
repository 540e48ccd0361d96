//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/render"
)

// objectStorageOverlay moves the weather release's task logs and large XComs from the NAS to an S3
// server (moto's, which make kind-up runs in namespace moto: hack/kind/moto.yaml), through the s3_store
// connection from the weather-s3 Secret.
const objectStorageOverlay = `
airflow:
  connections:
    - {id: grib_archive, secret: {name: weather-connections, key: grib_archive}}
    - {id: s3_store, secret: {name: weather-s3, key: connection}}
storage:
  logs:
    existingClaim: null
    retentionDays: null
    remote: {baseLogFolder: "s3://airflow-logs/weather", connId: s3_store}
xcom:
  objectStorage: {path: "s3://s3_store@airflow-xcom/xcom"}
`

// assertObjectStorage runs the weather release's data DAG with task logs and XComs in S3: the grid
// gis pushes goes to the bucket and fortran's task pod pulls it from there; every task's log is in the
// log bucket, and the api-server reads it back through the REST API once the worker pods that wrote
// the logs are gone.
func assertObjectStorage(t *testing.T, res *render.Result, spec, kindOverlay string) *render.Result {
	t.Helper()
	ctx := context.Background()
	const name = "weather-etl"
	conn, _ := json.Marshal(map[string]any{"conn_type": "aws", "login": "weather-key", "password": "weather-s3cret",
		"extra": map[string]any{"endpoint_url": "http://s3.moto:5000", "region_name": "eu-central-1",
			"config_kwargs": map[string]any{"s3": map[string]string{"addressing_style": "path"}}}})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "weather-s3"}, StringData: map[string]string{"connection": string(conn)}}
	secrets := cluster.client.CoreV1().Secrets(kindNS)
	_ = secrets.Delete(ctx, secret.Name, metav1.DeleteOptions{}) // an earlier run's, on a kept cluster
	if _, err := secrets.Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = secrets.Delete(ctx, secret.Name, metav1.DeleteOptions{}) })
	s3Pod := podOf(t, "moto", "app=s3")
	// s3 runs boto3 in the S3 server's pod (moto's image has it) against the server, as a client would.
	s3 := func(code string) string {
		t.Helper()
		out, err := execIn("moto", s3Pod, "s3", "python3", "-c", `import boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:5000", aws_access_key_id="weather-key",
                  aws_secret_access_key="weather-s3cret", region_name="eu-central-1")
def keys(bucket):
    return sorted(o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", []))
`+code)
		if err != nil {
			t.Fatalf("boto3 in the S3 server's pod: %v\n%s", err, out)
		}
		return out
	}
	// The buckets outlive a run on a kept cluster (the server is the cluster's); each run's keys are its own.
	s3(`for b in {"airflow-logs", "airflow-xcom"} - {b["Name"] for b in s3.list_buckets()["Buckets"]}:
    s3.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})`)

	stored := renderWith(t, spec, []string{kindOverlay}, objectStorageOverlay)
	figure(t, "kind weather-etl upgrade from NAS logs and XComs to S3", helmInstall(t, stored))

	// The data DAG's fortran model reads the grib input from the NAS, as the data volumes subtest does.
	if err := os.WriteFile(filepath.Join(nasDir(t), "grib", "input.txt"), []byte("1 2 3 4 5 6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := "e2e-s3-" + runSuffix
	triggerRun(t, name, "airflow", "airkube_e2e_data", run)
	state, took := waitRun(t, "airflow", "airkube_e2e_data", run, 10*time.Minute)
	figure(t, "kind weather-etl data DAG run with logs and XComs in S3", took)
	tis := taskInstances(t, "airflow", "airkube_e2e_data", run)
	if state != "success" {
		dumpPods(t, kindNS)
		for _, c := range [][2]string{{"worker", ",airkube.dev/task-group=gis"}, {"api-server", ""}} {
			log := podLogs(t, kindNS, podOf(t, kindNS, "app.kubernetes.io/instance="+name+",app.kubernetes.io/component="+c[0]+c[1]), c[0])
			t.Logf("%s%s's log, the end:\n%s", c[0], c[1], log[max(0, len(log)-6000):])
		}
		t.Fatalf("run %s ended %s: %v", run, state, tis)
	}

	// The grid (about 320 KB) is in the XCom bucket; the database row holds only its path.
	rows := psql(t, "airflow", "SELECT value::text FROM xcom WHERE dag_id = 'airkube_e2e_data' AND run_id = '"+run+"' AND task_id = 'grid_gis' AND key = 'return_value'")
	if len(rows) != 1 || len(rows[0][0]) > 500 || !strings.Contains(rows[0][0], "s3://s3_store@airflow-xcom/xcom/") {
		t.Fatalf("the grid's xcom row: %q, want a reference into s3://s3_store@airflow-xcom/xcom/", rows)
	}
	key := strings.TrimPrefix(strings.Trim(rows[0][0], `"`), "s3://s3_store@airflow-xcom/")
	size := s3(`print(s3.head_object(Bucket="airflow-xcom", Key="` + key + `")["ContentLength"])`)
	t.Logf("the grid in the XCom bucket: %s, %s bytes (gzip)", key, strings.TrimSpace(size))

	// Every task's log is in the log bucket, under Airflow's own path. A task uploads its log after it
	// reported its end (a task pod's supervisor does so as the pod ends), so the run can be over first.
	var missing []string
	_ = poll(2*time.Minute, func() (bool, error) {
		logKeys := strings.Fields(s3(`print("\n".join(keys("airflow-logs")))`))
		missing = missing[:0]
		for task := range tis {
			want := "weather/dag_id=airkube_e2e_data/run_id=" + run + "/task_id=" + task + "/attempt=1.log"
			if !slices.Contains(logKeys, want) {
				missing = append(missing, want)
			}
		}
		return len(missing) == 0, nil
	})
	if len(missing) > 0 {
		t.Errorf("task logs not in the bucket 2 minutes after the run: %v", missing)
	}

	// The pods that wrote the logs go (KubernetesExecutor pods already went with their tasks): the
	// api-server then has only the bucket to read them from.
	pods, err := cluster.client.CoreV1().Pods(kindNS).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + name + ",app.kubernetes.io/component=worker"})
	if err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	for _, p := range pods.Items {
		if err := cluster.client.CoreV1().Pods(kindNS).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	if err := poll(2*time.Minute, func() (bool, error) {
		for _, p := range pods.Items {
			if _, err := cluster.client.CoreV1().Pods(kindNS).Get(ctx, p.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("worker pods did not go: %v", err)
	}
	// The admin's password as the Secret holds it now (an earlier subtest changes it).
	api := connectAPIServer(t, name, "admin", secretStrings(t, kindNS, "airflow-users")["admin"])
	start := time.Now()
	for task, want := range map[string]string{
		"grid_fortran": "airkube xcom pulled 40000 values pushed by gis", // a KubernetesExecutor pod's
		"env_gis":      "airkube env grib_archive host=",                 // a Celery worker's
	} {
		log := api.call(t, "GET", "/api/v2/dags/airkube_e2e_data/dagRuns/"+run+"/taskInstances/"+task+"/logs/1?full_content=true", nil)
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("task %s's log through the REST API, its pod gone, lacks %q:\n%s", task, want, log)
		}
	}
	figure(t, "kind S3 task logs read through the REST API after their pods went (2 tasks)", time.Since(start))
	// The REST API shows an XCom kept in object storage as its path (Airflow resolves those on workers
	// only), the same path the grid is at in the bucket.
	entry := api.call(t, "GET", "/api/v2/dags/airkube_e2e_data/dagRuns/"+run+"/taskInstances/grid_gis/xcomEntries/return_value?deserialize=true&stringify=false", nil)
	var xcom struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(entry, &xcom); err != nil || xcom.Value != "s3://s3_store@airflow-xcom/"+key {
		t.Errorf("the grid through the REST API: %q (%v), want its path s3://s3_store@airflow-xcom/%s", xcom.Value, err, key)
	}
	return stored
}

// startServer starts a server the test needs beside the release: the Deployment and Service named name
// from manifest (pods labelled app=name), with their Secret and ConfigMap when given. An earlier run's
// (on a kept cluster) goes first, and this one goes when the test ends. It returns the Ready pod.
func startServer(t *testing.T, name string, manifest []byte, secret *corev1.Secret, cm *corev1.ConfigMap) string {
	t.Helper()
	ctx := context.Background()
	cleanup := func() {
		_ = cluster.client.AppsV1().Deployments(kindNS).Delete(ctx, name, metav1.DeleteOptions{})
		_ = cluster.client.CoreV1().Services(kindNS).Delete(ctx, name, metav1.DeleteOptions{})
		if cm != nil {
			_ = cluster.client.CoreV1().ConfigMaps(kindNS).Delete(ctx, cm.Name, metav1.DeleteOptions{})
		}
		if secret != nil {
			_ = cluster.client.CoreV1().Secrets(kindNS).Delete(ctx, secret.Name, metav1.DeleteOptions{})
		}
	}
	cleanup()
	if err := poll(time.Minute, func() (bool, error) {
		_, err := cluster.client.AppsV1().Deployments(kindNS).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	if secret != nil {
		if _, err := cluster.client.CoreV1().Secrets(kindNS).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if cm != nil {
		if _, err := cluster.client.CoreV1().ConfigMaps(kindNS).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range objects(t, manifest) {
		if err := createObject(obj, kindNS, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	return readyPod(t, "app="+name)
}

// readyPod waits for the one Ready pod matching selector and returns its name.
func readyPod(t *testing.T, selector string) string {
	t.Helper()
	name := ""
	if err := poll(3*time.Minute, func() (bool, error) {
		pods, err := cluster.client.CoreV1().Pods(kindNS).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil || len(pods.Items) != 1 {
			return false, nil
		}
		for _, c := range pods.Items[0].Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				name = pods.Items[0].Name
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("no ready pod for %s: %v", selector, err)
	}
	return name
}
