//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/importer"
)

// officialChart is the official Airflow chart 1.19.0 beside the repository, as CI lays it out.
var officialChart = filepath.Join(repoRoot, "..", "shared", "peers", "official-airflow-chart-1.19.0")

// takeoverSizes fits the imported release on the 2-core kind cluster: only the environment differs.
const takeoverSizes = `
components:
  apiServer: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
  scheduler: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
  dagProcessor: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
  triggerer: {resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
taskGroups:
  - {name: default, resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 1Gi}}}
`

// TestE2EKindTakeover moves a running release of the official chart to airkube on the same database:
// the official chart 1.19.0 is installed with the working values of ../shared/peers/official-on-kind
// and runs a DAG; a connection and a variable are stored. Then `airkube import` reads its values, the
// report's command copies its keys, the official release is uninstalled (the database stays) and the
// imported spec is installed. On airkube: the DAG's history is there, the connection decrypts (same
// Fernet key), the variable reads, the user logs in, and the DAG runs again. FIGURE: the downtime.
func TestE2EKindTakeover(t *testing.T) {
	kindOnly(t)
	if _, err := os.Stat(officialChart); err != nil {
		t.Skip("the official chart is not in ../shared/peers")
	}
	const name, db = "official", "official"
	ctx := context.Background()
	kindEnvironment(t)
	installDAGs(t)
	src, err := os.ReadFile(filepath.Join("testdata", "dags", "airkube_takeover.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nasDir(t), "dags", "airkube_takeover.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	psql(t, "airflow", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	psql(t, "airflow", "CREATE DATABASE "+db)
	uri := "postgresql://airflow:" + url.QueryEscape(dbPassword) + "@postgres:5432/" + db + "?sslmode=disable"
	secrets := map[string]map[string]string{"official-metadata": {"connection": uri}, "official-users": {"admin": kindAdminPassword}}
	for s := range secrets {
		secretsKeep[s] = true
	}
	for s, data := range secrets {
		_ = cluster.client.CoreV1().Secrets(kindNS).Delete(ctx, s, metav1.DeleteOptions{})
		if _, err := cluster.client.CoreV1().Secrets(kindNS).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s}, StringData: data}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The official chart leaves its hook-made Secrets (keys, Redis password) behind on uninstall, as
	// airkube keeps its own: a rerun starts from none of them.
	removeOfficial := func() {
		list, err := cluster.client.CoreV1().Secrets(kindNS).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return
		}
		for _, s := range list.Items {
			if strings.HasPrefix(s.Name, name+"-") && !secretsKeep[s.Name] {
				_ = cluster.client.CoreV1().Secrets(kindNS).Delete(context.Background(), s.Name, metav1.DeleteOptions{})
			}
		}
	}
	removeOfficial()
	t.Cleanup(func() {
		secretsKeep = nil
		removeOfficial()
	})

	// The official release, as its users run it.
	peers := filepath.Join(repoRoot, "..", "shared", "peers", "official-on-kind")
	var values []string
	for _, f := range []string{"official-values.yaml", "official-nohooks.yaml", "official-image-compat.yaml", "official-restricted.yaml"} {
		values = append(values, filepath.Join(peers, f))
	}
	values = append(values, filepath.Join(repoRoot, "tests", "e2e", "testdata", "official", "takeover.yaml"))
	args := []string{"install", name, officialChart, "--namespace", kindNS, "--wait", "--timeout", "10m"}
	for _, v := range values {
		args = append(args, "-f", v)
	}
	took, out, err := helmCLI(t, args...)
	if err != nil {
		dumpPods(t, kindNS)
		t.Fatalf("installing the official chart: %v\n%s", err, out)
	}
	figure(t, "kind official chart 1.19.0 install to ready (takeover's starting point)", took)
	official := func(args ...string) string {
		t.Helper()
		pod := podOf(t, kindNS, "release="+name+",component=scheduler")
		out, err := execIn(kindNS, pod, "scheduler", append([]string{"airflow"}, args...)...)
		if err != nil {
			t.Fatalf("airflow %s on the official release: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if err := poll(5*time.Minute, func() (bool, error) {
		return len(psql(t, db, "SELECT dag_id FROM dag WHERE dag_id = 'airkube_takeover'")) == 1, nil
	}); err != nil {
		t.Fatalf("the official release never parsed airkube_takeover: %v", err)
	}
	const run = "takeover-official"
	official("dags", "trigger", "airkube_takeover", "--run-id", run)
	if state, _ := waitRun(t, db, "airkube_takeover", run, 10*time.Minute); state != "success" {
		dumpPods(t, kindNS)
		t.Fatalf("the official release's DAG run ended %s", state)
	}
	official("connections", "add", "takeover_conn", "--conn-uri", "postgres://wx:gr%21b%3Ap%40ss@grib.example.com:5432/grib")
	official("variables", "set", "takeover_region", "europe")
	encrypted := psql(t, db, "SELECT is_encrypted FROM connection WHERE conn_id = 'takeover_conn'")
	if len(encrypted) != 1 || encrypted[0][0] != "t" {
		t.Fatalf("the official release stored the connection unencrypted: %v", encrypted)
	}

	// The move: import, copy the keys with the report's command, uninstall, install airkube.
	var inputs []importer.Input
	for _, v := range values {
		data, err := os.ReadFile(v)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, importer.Input{Name: v, Data: data})
	}
	imp, err := importer.Import(inputs, importer.Options{Release: name, Namespace: kindNS})
	if err != nil {
		t.Fatalf("airkube import of the official values: %v", err)
	}
	var copyKeys string
	for _, l := range imp.Report {
		t.Logf("import: %s", l)
		if l.Verdict == importer.Action && strings.Contains(l.Note, "create secret generic official-keys") {
			copyKeys = l.Note[strings.Index(l.Note, "kubectl "):]
		}
	}
	if copyKeys == "" {
		t.Fatal("the import report gives no command to copy the release's keys")
	}
	if out, err := byHandShell(t, copyKeys); err != nil {
		t.Fatalf("the report's command %q: %v\n%s", copyKeys, err, out)
	}
	specFile := filepath.Join(t.TempDir(), "official.yaml")
	if err := os.WriteFile(specFile, imp.Spec, 0o644); err != nil {
		t.Fatal(err)
	}
	res := renderWith(t, specFile, nil, takeoverSizes)

	start := time.Now()
	if _, out, err := helmCLI(t, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m"); err != nil {
		t.Fatalf("uninstalling the official release: %v\n%s", err, out)
	}
	helmInstall(t, res)
	downtime := time.Since(start)
	defer helmInstall(t, res, "uninstall", name, "--namespace", kindNS, "--wait", "--timeout", "5m")
	assertReady(t, res)
	figure(t, "kind takeover downtime (official chart uninstalled to the airkube release ready)", downtime)

	api := connectAPIServer(t, name, "admin", kindAdminPassword)
	var dr struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(api.call(t, "GET", "/api/v2/dags/airkube_takeover/dagRuns/"+run, nil), &dr); err != nil || dr.State != "success" {
		t.Errorf("the official release's run through airkube's api-server: %+v (%v), want success", dr, err)
	}
	if log := string(api.call(t, "GET", "/api/v2/dags/airkube_takeover/dagRuns/"+run+"/taskInstances/hello/logs/1?full_content=true", nil)); !strings.Contains(log, "airkube takeover host=") {
		t.Errorf("the official release's task log through airkube's api-server lacks its output:\n%.2000s", log)
	}
	if conn := airflowCLI(t, name, "connections", "get", "takeover_conn", "-o", "json"); !strings.Contains(conn, "gr!b:p@ss") {
		t.Errorf("the official release's connection does not decrypt under airkube (Fernet key not carried):\n%s", conn)
	}
	if v := strings.TrimSpace(airflowCLI(t, name, "variables", "get", "takeover_region")); !strings.HasSuffix(v, "europe") {
		t.Errorf("the official release's variable reads %q under airkube", v)
	}
	again := "takeover-airkube-" + runSuffix
	airflowCLI(t, name, "dags", "trigger", "airkube_takeover", "--run-id", again)
	if state, took := waitRun(t, db, "airkube_takeover", again, 10*time.Minute); state != "success" {
		t.Errorf("the DAG run on airkube after the takeover ended %s", state)
	} else {
		figure(t, "kind takeover: the DAG run again on airkube", took)
	}
	fmt.Printf("FIGURE kind takeover import report: %d lines\n", len(imp.Report))
}

// secretsKeep are the Secrets of the takeover test's own making, which its cleanup of the official
// chart's leftovers spares until the end.
var secretsKeep = map[string]bool{}

// byHandShell runs a command as a user of the README's kind steps would: with the environment the
// steps export first (the cluster's kubeconfig, its kubectl and helm on PATH).
func byHandShell(t *testing.T, command string) (string, error) {
	t.Helper()
	steps, err := os.ReadFile(os.Getenv("AIRKUBE_KIND_STEPS"))
	if err != nil {
		t.Fatalf("the steps kind-up printed: %v", err)
	}
	var export string
	for _, line := range strings.Split(string(steps), "\n") {
		if strings.HasPrefix(line, "export ") {
			export = line
			break
		}
	}
	out, err := exec.Command("bash", "-e", "-o", "pipefail", "-c", export+"\n"+command).CombinedOutput()
	return string(out), err
}
