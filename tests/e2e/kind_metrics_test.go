//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// promSample is one series of a PromQL instant vector.
type promSample struct {
	labels map[string]string
	value  float64
}

// promQuery asks Prometheus' HTTP API (base) for the instant vector of query.
func promQuery(t *testing.T, base, query string) []promSample {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatalf("PromQL %s: %v", query, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("PromQL %s: HTTP %d, %v %s: %s", query, resp.StatusCode, err, r.Error, body)
	}
	var out []promSample
	for _, s := range r.Data.Result {
		v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
		out = append(out, promSample{labels: s.Metric, value: v})
	}
	return out
}

// scraper is one Prometheus on the kind cluster and how it labels the release's exporter's series.
type scraper struct {
	what, pods string // its name in messages; its pod's label selector in namespace monitoring
	up, sel    string // PromQL: the exporter's up series; the label matchers of the release's series
}

// scrapers are the kind cluster's two Prometheus (hack/kind/prometheus.yaml, prometheus-operator.yaml): one
// finding the exporter by Kubernetes service discovery, one the Operator configures from the release's
// ServiceMonitor (metrics.serviceMonitor in overlays/kind).
func scrapers(release string) []scraper {
	sd := fmt.Sprintf(`namespace=%q,release=%q`, kindNS, release)
	sm := fmt.Sprintf(`namespace=%q,service=%q`, kindNS, release+"-statsd")
	return []scraper{
		{what: "Prometheus (service discovery)", pods: "app=prometheus", up: `up{job="airflow-statsd",` + sd + `}`, sel: sd},
		{what: "Prometheus (Operator, ServiceMonitor)", pods: "prometheus=operated", up: `up{` + sm + `}`, sel: sm},
	}
}

// assertPrometheus checks that both Prometheus on the kind cluster scrape the release's StatsD exporter,
// and that what Airflow's components and task pods sent for runID of airkube_e2e_groups is there by
// dag_id and task_id: each group's task duration (a Celery worker's and a KubernetesExecutor pod's),
// within the task instance's start and end in the database, and the scheduler's heartbeat. FIGURE:
// from the run's end until all of it is queryable, and the scheduler's loop time.
func assertPrometheus(t *testing.T, release, runID string, groups []string) {
	t.Helper()
	rows := psql(t, "airflow", "SELECT task_id, extract(epoch from end_date - start_date) FROM task_instance WHERE dag_id = 'airkube_e2e_groups' AND run_id = '"+runID+"'")
	for _, p := range scrapers(release) {
		start := time.Now()
		base := portForwardPod(t, "monitoring", podOf(t, "monitoring", p.pods), 9090)
		// The exporter is a target, found through its Service, and up.
		if err := poll(2*time.Minute, func() (bool, error) {
			up := promQuery(t, base, p.up)
			return len(up) == 1 && up[0].value == 1, nil
		}); err != nil {
			t.Fatalf("%s does not scrape %s's exporter: %s = %v", p.what, release, p.up, promQuery(t, base, `up`))
		}
		durations := map[string]float64{}
		query := `airflow_task_duration_sum{` + p.sel + `,dag_id="airkube_e2e_groups"}`
		heartbeat := `airflow_scheduler_heartbeat{` + p.sel + `}`
		if err := poll(2*time.Minute, func() (bool, error) {
			for _, s := range promQuery(t, base, query) {
				durations[s.labels["task_id"]] = s.value
			}
			for _, g := range groups {
				if _, ok := durations[g]; !ok {
					return false, nil
				}
			}
			return len(promQuery(t, base, heartbeat)) == 1, nil
		}); err != nil {
			t.Fatalf("after run %s, %s has task durations for %v (want %v) and scheduler heartbeats %v",
				runID, p.what, durations, groups, promQuery(t, base, heartbeat))
		}
		figure(t, "kind "+p.what+": the run's task durations by dag_id/task_id and the scheduler heartbeat queryable after the run", time.Since(start))

		// The durations are the tasks' own: what the operator ran, so more than nothing and no more than
		// the task instance's start to end in the database (which adds the task runner's start and finish).
		for _, r := range rows {
			db, _ := strconv.ParseFloat(r[1], 64)
			got, ok := durations[r[0]]
			if !ok {
				continue
			}
			// A rerun of the suite on a kept cluster adds earlier runs' durations to the sum: per run, then.
			count := promQuery(t, base, `airflow_task_duration_count{`+p.sel+`,dag_id="airkube_e2e_groups",task_id="`+r[0]+`"}`)
			if len(count) == 1 && count[0].value > 1 {
				got /= count[0].value
			}
			t.Logf("%s: task %s: %.2f s, %.2f s in the database", p.what, r[0], got, db)
			if got <= 0 || got > db+0.5 {
				t.Errorf("%s: task %s ran %.2f s, within %.2f s by the database", p.what, r[0], got, db)
			}
		}
		fmt.Printf("FIGURE kind scheduler loop time (%s, the exporter's summary): %s\n", p.what, schedulerLoopTime(t, base, p.sel))
	}
}

// schedulerLoopTime asks Prometheus (base) for the scheduler loop time of the series matching sel:
// Airflow's scheduler.scheduler_loop_duration timer, which the exporter serves as a summary over its
// last 10 minutes, as "p50 x s, p90 y s, p99 z s". None is an error.
func schedulerLoopTime(t *testing.T, base, sel string) string {
	t.Helper()
	q := map[string]float64{}
	for _, s := range promQuery(t, base, `airflow_scheduler_scheduler_loop_duration{`+sel+`}`) {
		q[s.labels["quantile"]] = s.value
	}
	if len(q) == 0 {
		t.Errorf("no airflow_scheduler_scheduler_loop_duration{%s} in Prometheus", sel)
		return "none"
	}
	return fmt.Sprintf("p50 %.3f s, p90 %.3f s, p99 %.3f s", q["0.5"], q["0.9"], q["0.99"])
}
