//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/airkube/airkube/generator/render"
)

// upgradeTo33 is the only change an operator makes to move the 2.11 release to 3.3: the version and
// its image.
const upgradeTo33 = `airflow: {version: "3.3.2", image: airkube.local/airflow:3.3.2}`

// assertUpgrade211To33 upgrades the live 2.11.2 release in place to 3.3.2 by changing only
// airflow.version and the image, with the history of a DAG run, a connection, a variable and a
// user made on 2.11:
//   - an XCom value the 3.0 migration cannot convert stops the upgrade in the migration Job's
//     preflight, which names the row, before the schema is touched, and helm reports the failed Job;
//   - with the row fixed, the upgrade goes through, and on 3.3 the old run is visible through the
//     REST API, its task log reads back through the api-server, the connection decrypts, the variable
//     reads and the user logs in with the password of its Secret;
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
	took, out, err := helmCLI(t, "upgrade", name, filepath.Join(chart, name), "--namespace", kindNS, "--wait", "--wait-for-jobs", "--timeout", "2m")
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
	fmt.Printf("FIGURE kind upgrade 2.11 -> 3.3 refused by the preflight: helm (--timeout 2m) failed after %.1f s; helm said: %s\n",
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

	// The user of 2.11 logs in to 3.3 with the password of its Secret; the old run and its log are there.
	api := connectAPIServer(t, name, "admin", kindAdminPassword)
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
