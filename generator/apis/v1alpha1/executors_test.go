package v1alpha1

import "testing"

// TestExecutorSet: the kinds an executor list runs, and which groups run inside the scheduler.
func TestExecutorSet(t *testing.T) {
	for _, tc := range []struct {
		executor string
		want     ExecutorSet
	}{
		{"LocalExecutor", ExecutorSet{Local: true}},
		{"CeleryExecutor,KubernetesExecutor", ExecutorSet{Celery: true, Kubernetes: true}},
		{"CeleryKubernetesExecutor", ExecutorSet{Celery: true, Kubernetes: true, CeleryKubernetes: true}},
		{"LocalExecutor, KubeX:wx.executors.KubeExecutor", ExecutorSet{Local: true, Custom: true}},
		{"KubernetesExcutor", ExecutorSet{}},
	} {
		r := &AirflowRelease{Executor: tc.executor}
		if got := r.ExecutorSet(); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.executor, got, tc.want)
		}
	}
	r := &AirflowRelease{Executor: "LocalExecutor,KubernetesExecutor,KubeX:wx.executors.KubeExecutor"}
	for group, want := range map[string]bool{"LocalExecutor": true, "KubeX": true, "wx.executors.KubeExecutor": true, "KubernetesExecutor": false} {
		if got := r.RunsInScheduler(TaskGroup{Name: "g", Executor: group}); got != want {
			t.Errorf("a group with executor %s runs in the scheduler: %v, want %v", group, got, want)
		}
	}
}
