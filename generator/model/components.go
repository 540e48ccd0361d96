package model

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// apiServerName is the api-server's (3.x) or webserver's (2.x) object and Service name.
func (r *release) apiServerName() string {
	if r.major == 3 {
		return r.name("api-server")
	}
	return r.name("webserver")
}

// components are the long-running parts every release has.
func (r *release) components() []Workload {
	c := r.Components
	var out []Workload
	api := Workload{Name: r.apiServerName(), Component: "api-server", Args: []string{"airflow", "api-server"},
		Resources: resources("250m", "1Gi", "2Gi"), Replicas: ptr(int32(1)),
		Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: APIPort}},
		Service: &Service{Name: r.apiServerName(), Ports: []corev1.ServicePort{{Name: "http", Port: APIPort, TargetPort: intstr.FromString("http")}}}}
	health := "/api/v2/monitor/health"
	if r.major == 2 {
		// The 2.x webserver serves everything, /health too, under base_url's path only.
		// Its gunicorn writes a pid file, by default into AIRFLOW_HOME, which the image owns.
		api.Component, api.Args, health = "webserver", []string{"airflow", "webserver", "--pid", TmpDir + "/airflow-webserver.pid"}, r.basePath()+"/health"
	}
	// /health is cheap: probed every 2 s while starting (up to 10 minutes), the pod is Ready within
	// about 2 s of Airflow's, where a 10 s period added 5-10 s to every install, upgrade and restart.
	api.StartupProbe = httpProbe(health, APIPort, 2, 300)
	api.LivenessProbe = httpProbe(health, APIPort, 30, 5)
	api.ReadinessProbe = httpProbe(health, APIPort, 5, 6)
	out = append(out, r.tune(api, c.APIServer))

	sched := Workload{Name: r.name("scheduler"), Component: "scheduler", Args: []string{"airflow", "scheduler"},
		Resources: resources("500m", "1Gi", "2Gi"), Replicas: ptr(int32(1)),
		Ports:         []corev1.ContainerPort{{Name: "health", ContainerPort: SchedulerHealth}},
		StartupProbe:  httpProbe("/health", SchedulerHealth, 2, 300),
		LivenessProbe: httpProbe("/health", SchedulerHealth, 30, 5),
	}
	if !r.schedulerHealthServer() {
		// Airflow 2.11 serves /health from a process it forks from the scheduler with the scheduler's
		// database connections still in the pool (3.x disposes of them in the child: settings.py
		// clean_in_fork); a probe there can take the connection the scheduler is using, and the
		// scheduler then waits on it forever. So a 2.x scheduler has no health server and is probed by
		// its job's heartbeat, like the dag-processor and the triggerer.
		check := []string{"airflow", "jobs", "check", "--job-type", "SchedulerJob", "--local"}
		sched.Ports, sched.StartupProbe, sched.LivenessProbe = nil, execProbe(15, 40, check...), execProbe(60, 5, check...)
	}
	if r.executors.Local || r.executors.Custom {
		// Tasks run inside the scheduler (a custom executor is a LocalExecutor of its own kind).
		sched.Ports = append(sched.Ports, corev1.ContainerPort{Name: "worker-logs", ContainerPort: WorkerLogPort})
		sched.TerminationGracePeriodSeconds = ptr(int64(600))
	}
	if r.executors.Kubernetes {
		if len(r.kubernetesGroups()) > 0 {
			sched.Volumes = append(sched.Volumes, corev1.Volume{Name: "pod-templates", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: r.name("pod-templates")}}}})
			sched.VolumeMounts = append(sched.VolumeMounts, corev1.VolumeMount{Name: "pod-templates", MountPath: PodTemplatesDir, ReadOnly: true})
		}
	}
	for _, g := range r.TaskGroups {
		// LocalExecutor and custom executor groups run their tasks inside the scheduler.
		if r.RunsInScheduler(g) {
			r.addDataMounts(&sched, g.Volumes)
		}
	}
	sched = r.tune(sched, c.Scheduler)
	if r.schedulerAPI() {
		// The KubernetesExecutor's client, and pod operators of tasks run inside the scheduler.
		r.withKubeAPI(&sched, r.name("scheduler"))
	}
	out = append(out, sched)

	if r.major == 3 || (c.DAGProcessor != nil && c.DAGProcessor.Enabled != nil && *c.DAGProcessor.Enabled) {
		out = append(out, r.tune(Workload{Name: r.name("dag-processor"), Component: "dag-processor", Args: []string{"airflow", "dag-processor"},
			Resources: resources("250m", "1Gi", "2Gi"), Replicas: ptr(int32(1)),
			LivenessProbe: execProbe(60, 5, "airflow", "jobs", "check", "--job-type", "DagProcessorJob", "--local"),
		}, c.DAGProcessor))
	}
	if c.Triggerer == nil || c.Triggerer.Enabled == nil || *c.Triggerer.Enabled {
		trig := r.tune(Workload{Name: r.name("triggerer"), Component: "triggerer", Args: []string{"airflow", "triggerer"},
			Resources: resources("100m", "512Mi", "1Gi"), Replicas: ptr(int32(1)),
			Ports:         []corev1.ContainerPort{{Name: "triggerer-logs", ContainerPort: TriggererLog}},
			LivenessProbe: execProbe(60, 5, "airflow", "jobs", "check", "--job-type", "TriggererJob", "--local"),
		}, c.Triggerer)
		if r.anyPodOperators() {
			r.withKubeAPI(&trig, r.podOperatorAccount()) // deferrable pod operators wait here
		}
		out = append(out, trig)
	}
	return out
}

// tune applies the shared Airflow settings and the spec's overrides to a component.
func (r *release) tune(w Workload, c *v1alpha1.Component) Workload {
	w.Airflow, w.WaitForMigrations = true, true
	w.Image = r.Airflow.Image
	w.Checksums = []string{r.name("config")}
	if w.ServiceAccount == "" {
		w.ServiceAccount = r.name("airflow")
	}
	if c != nil {
		if c.Replicas != nil {
			w.Replicas = c.Replicas
		}
		if c.Resources != nil {
			w.Resources = *c.Resources
		}
		w.NodeSelector, w.Tolerations, w.Affinity = c.NodeSelector, c.Tolerations, c.Affinity
		opts, annotations := componentOptions(c)
		w.PodOptions, w.PodAnnotations = opts, mergeAnnotations(w.PodAnnotations, annotations)
		w.Env = append(append([]corev1.EnvVar{}, w.Env...), c.Env...)
		r.addDataMounts(&w, c.Volumes)
		// The chart draws them as a task group's: airkube's restricted context, its mounts available.
		w.InitContainers = append(append([]corev1.Container{}, w.InitContainers...), c.InitContainers...)
		w.Sidecars = append(append([]corev1.Container{}, w.Sidecars...), c.Sidecars...)
	}
	w.PDB = *w.Replicas > 1
	if w.PDB && w.Affinity == nil && len(w.TopologySpreadConstraints) == 0 {
		w.Affinity = r.spread(w.Component, "")
	}
	return w
}

// spread is the default affinity of a workload with more than one pod: prefer nodes that run no other
// pod of it, so one node's loss or drain takes at most part of it (the spec's affinity replaces it).
func (r *release) spread(component, group string) *corev1.Affinity {
	labels := map[string]string{"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": r.Metadata.Name,
		"app.kubernetes.io/component": component}
	if group != "" {
		labels["airkube.dev/task-group"] = group
	}
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
				LabelSelector: &metav1.LabelSelector{MatchLabels: labels}}}}}}
}

// executionAPIURL is where 3.x workers and task pods reach the api-server's task API,
// keeping a base_url path (apache/airflow#51450).
func (r *release) executionAPIURL() string {
	return fmt.Sprintf("http://%s.%s:%d%s/execution/", r.apiServerName(), r.Metadata.Namespace, APIPort, r.basePath())
}
