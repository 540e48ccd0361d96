//go:build e2e

package e2e

// Day two on kind: an upgrade across Airflow majors (assertUpgrade211To33, run by TestE2EKind211) and
// the takeover of an official-chart release (TestE2EKindTakeover). This file sorts after kind_test.go on
// purpose: go test runs files in name order, and TestE2EKindWeatherRelease must find the namespace
// absent, as the README's steps do, so the takeover (which leaves it) runs after it.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/importer"
	"github.com/airkube/airkube/generator/render"
)

// upgradeTo33 is the only change an operator makes to move the 2.11 release to 3.3: the version and
// its image. The release says auth.manager fab (2.x's only one), so it keeps logging in through FAB.
const upgradeTo33 = `airflow: {version: "3.3.2", image: airkube.local/airflow:3.3.2}`

// assertUpgrade211To33 upgrades the live 2.11.2 release in place to 3.3.2 by changing only
// airflow.version and the image, with the history of a DAG run, a connection, a variable and a
// user made on 2.11:
//   - an XCom value the 3.0 migration cannot convert stops the upgrade in the migration Job's
//     preflight, which names the row, before the schema is touched, and helm reports the failed Job;
//   - with the row fixed, the upgrade goes through, and on 3.3 the old run is visible through the
//     REST API, its task log reads back through the api-server, the connection decrypts, the variable
//     reads, and FAB's users and roles are the same rows: each user logs in with the password of its
//     Secret and keeps its role;
//   - the 2.11 spec on the migrated database is refused by the chart before anything changes.
func assertUpgrade211To33(t *testing.T, old *render.Result, db, oldRun string) {
	t.Helper()
	name := old.Release.Metadata.Name
	spec := filepath.Join(repoRoot, "tests", "golden", "kubernetes-2.11", "spec.yaml")
	// Made on 2.11, encrypted with the release's Fernet key: the connection's password and the variable.
	airflowCLI(t, name, "connections", "add", "e2e_upgrade", "--conn-uri", "postgres://wx:gr%21b%3Ap%40ss@grib.example.com:5432/grib")
	airflowCLI(t, name, "variables", "set", "e2e_upgrade_region", "europe")
	revision := func() string { return psql(t, db, "SELECT version_num FROM alembic_version")[0][0] }
	at211 := revision()
	fabUsers := func() [][]string {
		return psql(t, db, "SELECT u.username, u.password, string_agg(r.name, ',' ORDER BY r.name) FROM ab_user u "+
			"JOIN ab_user_role ur ON ur.user_id = u.id JOIN ab_role r ON r.id = ur.role_id GROUP BY u.id ORDER BY u.username")
	}
	users211 := fabUsers()
	if len(users211) != 2 {
		t.Fatalf("2.11's users Job made FAB users %v, want admin and forecaster", users211)
	}

	// A value no JSON reader takes, in place of the run's first XCom: the preflight must name it.
	rows := psql(t, db, "SELECT task_id, key, encode(value, 'hex') FROM xcom WHERE dag_id = 'airkube_e2e_groups' AND run_id = '"+oldRun+"' ORDER BY task_id LIMIT 1")
	if len(rows) != 1 {
		t.Fatalf("the 2.11 run stored no XCom to break: %v", rows)
	}
	task, key, saved := rows[0][0], rows[0][1], rows[0][2]
	where := "dag_id = 'airkube_e2e_groups' AND run_id = '" + oldRun + "' AND task_id = '" + task + "' AND key = '" + key + "'"
	psql(t, db, "UPDATE xcom SET value = '\\xfffe00'::bytea WHERE "+where)

	upgraded := renderWith(t, spec, nil, kx211Overlay, upgradeTo33)
	// Helm 3's --wait checks the Deployments, whose new pods wait for the migration, before Jobs: it
	// reports the failed Job at its timeout, so this try gets a short one. The Job itself fails at once.
	chart := filepath.Join(t.TempDir(), "chart")
	if err := render.Write(upgraded, chart); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	failedAt := make(chan time.Duration, 1)
	go func() {
		_ = poll(5*time.Minute, func() (bool, error) {
			if migrationJobFailed(name) {
				failedAt <- time.Since(start)
				return true, nil
			}
			return false, nil
		})
		close(failedAt)
	}()
	took, out, err := helmCLI(t, "upgrade", name, filepath.Join(chart, name), "--namespace", kindNS, "--wait", "--wait-for-jobs", "--timeout", "40s")
	if err == nil {
		t.Fatalf("the upgrade over an XCom the migration cannot convert succeeded:\n%s", out)
	}
	if d, ok := <-failedAt; ok {
		fmt.Printf("FIGURE kind upgrade 2.11 -> 3.3 refused: the migration Job failed %.1f s after helm upgrade began\n", d.Seconds())
	} else {
		t.Errorf("the migration Job did not fail within 5 minutes of the refused upgrade")
	}
	message := migrationFailure(t, name)
	for _, want := range []string{"airkube preflight: refused", "task_id='" + task + "'", "not UTF-8", "Nothing was changed"} {
		if !strings.Contains(message, want) {
			t.Errorf("the failed migration Job's message lacks %q:\n%s", want, message)
		}
	}
	if got := revision(); got != at211 {
		t.Errorf("the refused upgrade changed the schema: %s, was %s", got, at211)
	}
	fmt.Printf("FIGURE kind upgrade 2.11 -> 3.3 refused by the preflight: helm (--timeout 40s) failed after %.1f s; helm said: %s\n",
		took.Seconds(), lastLine(out))

	// Fixed: the same command goes through.
	psql(t, db, "UPDATE xcom SET value = decode('"+saved+"', 'hex') WHERE "+where)
	figure(t, "kind upgrade 2.11 -> 3.3 in place (helm upgrade to ready, migration included)", helmInstall(t, upgraded))
	assertReady(t, upgraded)
	if got := revision(); got == at211 {
		t.Fatalf("the schema is still at 2.11's revision %s after the upgrade", got)
	}
	for deployment, image := range deploymentImages(t, name) {
		if image != "airkube.local/airflow:3.3.2" {
			t.Errorf("%s runs %s after the upgrade", deployment, image)
		}
	}
	// The refused Job stays for kubectl logs; an upgrade that changes nothing migrates nothing again.
	jobs := migrationJobNames(t, name)
	helmInstall(t, upgraded)
	if again := migrationJobNames(t, name); strings.Join(again, " ") != strings.Join(jobs, " ") || len(jobs) != 2 {
		t.Errorf("migration Jobs %v after an upgrade that changed nothing, %v before; want the refused one and the one that ran", again, jobs)
	}

	// FAB's users of 2.11 are the same rows on 3.3 (3.3's users Job found nothing to change), and
	// log in with the passwords of their Secret and their old roles; the old run and its log are there.
	if got := fabUsers(); !slices.EqualFunc(got, users211, slices.Equal) {
		t.Errorf("FAB's users after the upgrade: %v, were %v", got, users211)
	}
	api := connectAPIServer(t, name, "admin", kindAdminPassword)
	status, viewer := login(t, api.base, "forecaster", kindViewerPassword)
	if status != http.StatusCreated {
		t.Fatalf("2.11's Viewer logging in to 3.3 through FAB: HTTP %d", status)
	}
	req, _ := http.NewRequest("POST", api.base+"/api/v2/pools", strings.NewReader(`{"name": "e2e_upgrade_viewer", "slots": 1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+viewer)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusForbidden {
		t.Errorf("2.11's Viewer created a pool on 3.3: HTTP %d, want 403", resp.StatusCode)
	}
	var dr struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(api.call(t, "GET", "/api/v2/dags/airkube_e2e_groups/dagRuns/"+oldRun, nil), &dr); err != nil || dr.State != "success" {
		t.Errorf("the 2.11 run through the 3.3 REST API: %+v (%v), want success", dr, err)
	}
	log := string(api.call(t, "GET", "/api/v2/dags/airkube_e2e_groups/dagRuns/"+oldRun+"/taskInstances/legacy/logs/1?full_content=true", nil))
	if !strings.Contains(log, "airkube") {
		t.Errorf("the 2.11 task's log read through the 3.3 api-server lacks its output:\n%.2000s", log)
	}
	conn := airflowCLI(t, name, "connections", "get", "e2e_upgrade", "-o", "json")
	if !strings.Contains(conn, `gr!b:p@ss`) {
		t.Errorf("the connection made on 2.11 does not decrypt on 3.3:\n%s", conn)
	}
	if v := strings.TrimSpace(airflowCLI(t, name, "variables", "get", "e2e_upgrade_region")); !strings.HasSuffix(v, "europe") {
		t.Errorf("the variable made on 2.11 reads %q on 3.3", v)
	}
	run := "e2e-upgraded-" + runSuffix
	figure(t, "kind upgraded release (3.3) DAG run through 2 groups", runGroups(t, name, db, run))

	// Back to 2.11 on the 3.3 database: the chart refuses before anything changes.
	before := deploymentImages(t, name)
	out, _, err = helmTry(t, old)
	if err == nil || !strings.Contains(out, "is a downgrade") || !strings.Contains(out, "Nothing was changed") {
		t.Errorf("helm upgrade back to 2.11: %v\n%s\nwant a refusal naming the downgrade", err, out)
	}
	for deployment, image := range deploymentImages(t, name) {
		if image != before[deployment] {
			t.Errorf("the refused downgrade changed %s: %s, was %s", deployment, image, before[deployment])
		}
	}
	fmt.Printf("FIGURE kind downgrade 3.3 -> 2.11 refused before any change: %s\n", lastLine(out))
}

// migrationFailure is what the release's failed migration Job says: its pods' termination messages
// (the preflight's or the migration's last log lines).
func migrationFailure(t *testing.T, release string) string {
	t.Helper()
	pods, err := cluster.client.CoreV1().Pods(kindNS).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=migrate"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range pods.Items {
		for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if term := s.State.Terminated; term != nil && term.ExitCode != 0 {
				fmt.Fprintf(&b, "%s/%s: %s\n", p.Name, s.Name, term.Message)
			}
		}
	}
	return b.String()
}

// migrationJobFailed says whether one of the release's migration Jobs failed.
func migrationJobFailed(release string) bool {
	jobs, _ := migrationJobs(kindNS, release)
	for _, j := range jobs {
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				return true
			}
		}
	}
	return false
}

// migrationJobNames are the names of the release's migration Jobs, sorted.
func migrationJobNames(t *testing.T, release string) []string {
	t.Helper()
	jobs, err := migrationJobs(kindNS, release)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	return names
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

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
		return airflowCLIIn(t, "release="+name+",component=scheduler", args...)
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
		if i := strings.Index(l.Note, "copy its keys: "); l.Verdict == importer.Action && i >= 0 && strings.Contains(l.Note, "{name: official-keys}") {
			copyKeys = l.Note[i+len("copy its keys: "):]
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
