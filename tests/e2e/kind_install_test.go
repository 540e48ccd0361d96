//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// printInstallBreakdown prints where a fresh install's time went, from the API's own timestamps (whole
// seconds), counted from the migration Job's creation (Helm's first object): the database stand-in's
// readiness, the migration pod's start, preflight and `airflow db migrate`, and for each component and
// worker its wait for the migrations (with when it first found them missing: until then it was importing
// Airflow), its container's start and its readiness (the probes' share).
func printInstallBreakdown(t *testing.T, release string) {
	t.Helper()
	ctx := context.Background()
	jobs, err := cluster.client.BatchV1().Jobs(kindNS).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=migrate"})
	if err != nil || len(jobs.Items) != 1 {
		t.Errorf("install breakdown: migration Jobs %v (%v), want one", len(jobs.Items), err)
		return
	}
	t0 := jobs.Items[0].CreationTimestamp.Time
	at := func(ts metav1.Time) string {
		if ts.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%.0f", ts.Sub(t0).Seconds())
	}
	ready := func(p corev1.Pod) metav1.Time {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return c.LastTransitionTime
			}
		}
		return metav1.Time{}
	}
	running := func(s corev1.ContainerStatus) (metav1.Time, metav1.Time) {
		switch {
		case s.State.Terminated != nil:
			return s.State.Terminated.StartedAt, s.State.Terminated.FinishedAt
		case s.State.Running != nil:
			return s.State.Running.StartedAt, metav1.Time{}
		}
		return metav1.Time{}, metav1.Time{}
	}
	var parts []string
	if db, err := cluster.client.CoreV1().Pods(kindNS).List(ctx, metav1.ListOptions{LabelSelector: "app=postgres"}); err == nil && len(db.Items) == 1 {
		parts = append(parts, "database ready "+at(ready(db.Items[0])))
	}
	pods, err := cluster.client.CoreV1().Pods(kindNS).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp) })
	last := t0
	for _, p := range pods.Items {
		name := p.Labels["app.kubernetes.io/component"]
		if g := p.Labels["airkube.dev/task-group"]; g != "" {
			name += "/" + g
		}
		if p.CreationTimestamp.Before(&jobs.Items[0].CreationTimestamp) || (name != "migrate" && ready(p).Time.IsZero()) {
			continue // not this install's, or gone meanwhile
		}
		var steps []string
		for _, s := range p.Status.InitContainerStatuses {
			from, to := running(s)
			step := fmt.Sprintf("%s %s-%s", s.Name, at(from), at(to))
			if s.Name == "wait-for-migrations" {
				step += " (" + firstMigrationPoll(ctx, p.Name, at) + ")"
			}
			steps = append(steps, step)
		}
		for _, s := range p.Status.ContainerStatuses {
			from, to := running(s)
			if to.IsZero() {
				steps = append(steps, fmt.Sprintf("%s started %s", s.Name, at(from)))
			} else {
				steps = append(steps, fmt.Sprintf("%s %s-%s", s.Name, at(from), at(to)))
			}
			if s.RestartCount > 0 {
				steps = append(steps, fmt.Sprintf("%d restarts", s.RestartCount))
			}
		}
		if r := ready(p); !r.Time.IsZero() {
			steps = append(steps, "ready "+at(r))
			if r.After(last) {
				last = r.Time
			}
		}
		parts = append(parts, fmt.Sprintf("%s: created %s, %s", name, at(p.CreationTimestamp), strings.Join(steps, ", ")))
	}
	fmt.Printf("FIGURE kind install breakdown (s from the migration Job's creation): %s; all ready %.0f s\n",
		strings.Join(parts, "; "), last.Sub(t0).Truncate(time.Second).Seconds())
}

// firstMigrationPoll says when a wait-for-migrations container first found the migrations missing, from
// `airflow db check-migrations`' own "Waiting for migrations" log line, which Airflow writes a second after
// each check that found them missing (its first check comes after Airflow's import), or that it found
// them done at its first check.
func firstMigrationPoll(ctx context.Context, pod string, at func(metav1.Time) string) string {
	data, err := cluster.client.CoreV1().Pods(kindNS).GetLogs(pod, &corev1.PodLogOptions{Container: "wait-for-migrations", Timestamps: true}).DoRaw(ctx)
	if err != nil {
		return "log: " + err.Error()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "Waiting for migrations") {
			continue
		}
		ts, _, _ := strings.Cut(line, " ")
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			return "first found them missing at " + at(metav1.NewTime(t.Add(-time.Second)))
		}
	}
	return "found them done at its first check"
}
