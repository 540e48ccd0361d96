package model

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// kubernetesGroups are the task groups run by the KubernetesExecutor, default first.
func (r *release) kubernetesGroups() []v1alpha1.TaskGroup {
	var out []v1alpha1.TaskGroup
	for _, g := range r.TaskGroups {
		if g.Executor == v1alpha1.KubernetesExecutor {
			out = append(out, g)
		}
	}
	return out
}

// groups builds a worker Deployment per Celery group and a pod template per Kubernetes group.
func (r *release) groups() ([]Workload, []TaskPod) {
	var workers []Workload
	var pods []TaskPod
	firstCelery := true
	for _, g := range r.TaskGroups {
		switch g.Executor {
		case v1alpha1.CeleryExecutor:
			queues := g.Name
			if firstCelery && g.Name != "default" {
				queues += ",default"
			}
			firstCelery = false
			workers = append(workers, r.worker(g, queues))
		case v1alpha1.KubernetesExecutor:
			tp := TaskPod{Group: g.Name, File: PodTemplatesDir + "/" + g.Name + ".yaml", Image: g.Image, Env: g.Env,
				Resources: resources("500m", "1Gi", "2Gi"), NodeSelector: g.NodeSelector, Tolerations: g.Tolerations, Affinity: g.Affinity}
			if g.Resources != nil {
				tp.Resources = *g.Resources
			}
			if account := r.groupAccount(g); account != r.name("airflow") {
				tp.ServiceAccount = account
			}
			tp.Volumes, tp.VolumeMounts = r.dataMounts(g.Volumes)
			opts, annotations := r.groupOptions(g)
			tp.PodOptions, tp.PodAnnotations = opts, mergeAnnotations(accountAnnotations(g), annotations)
			tp.PodSecurityContext = r.groupSecurity(g)
			// A task pod ends when its task does: its sidecars are native ones (init containers that
			// keep running), which the kubelet stops after base exits; plain ones would hold the pod.
			tp.InitContainers = append([]corev1.Container{}, g.InitContainers...)
			for _, sc := range g.Sidecars {
				sc.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
				tp.InitContainers = append(tp.InitContainers, sc)
			}
			if r.groupPodOperators(g) {
				tp.Volumes = append(tp.Volumes, r.kubeVolume())
				tp.VolumeMounts = append(tp.VolumeMounts, corev1.VolumeMount{Name: "kube-api", MountPath: KubeDir, ReadOnly: true})
				tp.Env = append(append([]corev1.EnvVar{}, g.Env...), r.kubeEnv()...)
			}
			tp.Env = append(append([]corev1.EnvVar{}, tp.Env...), r.taskEnv()...) // tp.Env may be the spec's slice
			pods = append(pods, tp)
		}
	}
	return workers, pods
}

func (r *release) worker(g v1alpha1.TaskGroup, queues string) Workload {
	w := Workload{
		Name: r.name("worker-" + g.Name), Component: "worker", TaskGroup: g.Name, Airflow: true, WaitForMigrations: true,
		Image:     g.Image,
		Args:      []string{"airflow", "celery", "worker", "--queues", queues, "--concurrency", fmt.Sprint(*g.Concurrency)},
		Env:       g.Env,
		Resources: resources("500m", "1Gi", v1alpha1.DefaultWorkerMemoryLimit),
		Ports:     []corev1.ContainerPort{{Name: "worker-logs", ContainerPort: WorkerLogPort}},
		LivenessProbe: execProbe(60, 5, "sh", "-c",
			"exec celery --app airflow.providers.celery.executors.celery_executor.app inspect ping -d celery@$(hostname)"),
		NodeSelector: g.NodeSelector, Tolerations: g.Tolerations, Affinity: g.Affinity,
		ServiceAccount:                r.name("airflow"),
		TerminationGracePeriodSeconds: g.TerminationGracePeriodSeconds,
		Checksums:                     []string{r.name("config")},
		Replicas:                      g.Replicas,
	}
	if g.Resources != nil {
		w.Resources = *g.Resources
	}
	w.ServiceAccount, w.PodAnnotations = r.groupAccount(g), accountAnnotations(g)
	opts, annotations := r.groupOptions(g)
	w.PodOptions, w.PodAnnotations = opts, mergeAnnotations(w.PodAnnotations, annotations)
	w.PodSecurityContext = r.groupSecurity(g)
	w.InitContainers, w.Sidecars = g.InitContainers, g.Sidecars
	w.Volumes, w.VolumeMounts = r.dataMounts(g.Volumes)
	if r.groupPodOperators(g) {
		r.withKubeAPI(&w, w.ServiceAccount)
	}
	if a := g.Autoscaling; a != nil {
		w.Replicas, w.MinReplicas, w.MaxReplicas, w.PDB = nil, *a.MinReplicas, a.MaxReplicas, true
		if a.Metric == "cpu" {
			w.HPA = cpuMetric(*a.TargetCPUUtilizationPercentage)
		} else {
			w.KEDA = r.keda(queues, *g.Concurrency)
		}
	} else {
		w.PDB = *w.Replicas > 1
	}
	if w.PDB && w.Affinity == nil && len(w.TopologySpreadConstraints) == 0 {
		w.Affinity = r.spread("worker", g.Name)
	}
	return w
}

// keda counts the group's queued and running tasks, per worker slot. The password is
// read from the worker's own environment (passwordFromEnv), never copied.
func (r *release) keda(queues string, concurrency int32) *KEDA {
	d := r.Database
	host := kedaHost(d.Host, r.Metadata.Namespace)
	var quoted []string
	for _, q := range strings.Split(queues, ",") {
		quoted = append(quoted, "'"+q+"'")
	}
	where := fmt.Sprintf("state IN ('queued', 'running') AND queue IN (%s)", strings.Join(quoted, ", "))
	if d.Type == "mysql" {
		return &KEDA{Trigger: "mysql", ScaleDownSeconds: kedaScaleDownSeconds, Metadata: map[string]string{
			"host": host, "port": fmt.Sprint(d.Port), "username": d.User, "dbName": d.Name, "passwordFromEnv": EnvDBPassword,
			"query":      fmt.Sprintf("SELECT CEIL(COUNT(*) / %d) FROM task_instance WHERE %s", concurrency, where),
			"queryValue": "1",
		}}
	}
	sslmode := d.SSLMode
	if sslmode == "" {
		sslmode = "prefer"
	}
	return &KEDA{Trigger: "postgresql", ScaleDownSeconds: kedaScaleDownSeconds, Metadata: map[string]string{
		"host": host, "port": fmt.Sprint(d.Port), "userName": d.User, "dbName": d.Name, "sslmode": sslmode, "passwordFromEnv": EnvDBPassword,
		"query":            fmt.Sprintf("SELECT ceil(COUNT(*)::decimal / %d) FROM task_instance WHERE %s", concurrency, where),
		"targetQueryValue": "1",
	}}
}

// kedaHost is the database host as KEDA's operator must name it. The operator runs in its own
// namespace, where a single-label host (a Service of the release's namespace, as Airflow's pods
// resolve it through their DNS search path) names nothing: it gets the release's namespace. Names
// with a dot resolve the same from any namespace and stay as written.
func kedaHost(host, namespace string) string {
	if strings.Contains(host, ".") || strings.Contains(host, ":") {
		return host
	}
	return host + "." + namespace + ".svc"
}
