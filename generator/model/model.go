package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// Fixed paths inside every Airflow container.
const (
	ConfigDir       = "/opt/airkube/config"
	ConfigFile      = ConfigDir + "/airflow.cfg"
	DBURIScript     = ConfigDir + "/db_uri.py"
	PythonDir       = "/opt/airkube/python"
	PodTemplatesDir = "/opt/airkube/pod-templates"
	APIPort         = 8080
	SchedulerHealth = 8974
	WorkerLogPort   = 8793
	TriggererLog    = 8794
	RedisPort       = 6379
	GitSyncHTTPPort = 2020
)

// Secret keys of the generated (or the user's) Airflow secret.
const (
	FernetKey = "fernet-key"
	SecretKey = "secret-key"
	JWTSecret = "jwt-secret"
)

// Env names that carry secrets at run time; their values never appear in the chart.
const (
	EnvDBPassword = "AIRKUBE_DB_PASSWORD"
	EnvDBURI      = "AIRKUBE_DB_URI"
)

// release is a validated spec with the facts every builder needs.
type release struct {
	*v1alpha1.AirflowRelease
	major     int
	executors v1alpha1.ExecutorSet
	name      func(suffix string) string
}

// Build decides everything about a validated, defaulted release.
func Build(r *v1alpha1.AirflowRelease) *Values {
	rel := &release{AirflowRelease: r, executors: r.ExecutorSet()}
	rel.major = int(r.Airflow.Version[0] - '0')
	rel.name = func(s string) string { return r.Metadata.Name + "-" + s }

	cfg := rel.airflowCfg()
	v := &Values{
		Release: Release{Name: r.Metadata.Name, Namespace: r.Metadata.Namespace, AirflowVersion: r.Airflow.Version},
		Labels:  r.Airflow.Labels,
		ConfigMaps: map[string]map[string]string{
			rel.name("config"): {"airflow.cfg": cfg, "db_uri.py": dbURIScript},
			// The DAG helper lists the task groups; no pod hashes it, so adding a group
			// restarts nothing. It is mounted as a folder, so it updates in place.
			rel.name("python"): {"airkube.py": rel.dagHelper(), "airkube_users.py": usersScript, "airkube_preflight.py": preflightScript},
		},
		ServiceAccounts: []ServiceAccount{{Name: rel.name("airflow")}},
	}
	if name, data := rel.kubeConfigMap(); name != "" {
		v.ConfigMaps[name] = data
	}
	v.Airflow = rel.airflowPods()
	v.Secrets = rel.secrets()
	v.Storage = append(rel.storage(), rel.dataStorage()...)
	v.Claims = rel.claims()
	v.Migration = rel.migration(v.Airflow.Volumes[0])
	v.LogRetention = rel.logRetention(v.Airflow)
	v.Logins = rel.logins()
	v.UI = rel.uiRoute()
	v.URL = rel.baseURL()
	v.Workloads = rel.components()
	if rel.Auth.Manager == v1alpha1.AuthFAB {
		v.UsersJob = rel.fabAuth(&v.Workloads[0], v.Airflow.Volumes[0])
	} else {
		rel.simpleAuth(&v.Workloads[0])
	}
	workers, taskPods := rel.groups()
	v.Workloads = append(v.Workloads, workers...)
	rel.withTaskEnv(v.Workloads)
	v.TaskPods = taskPods
	if len(taskPods) > 0 {
		// Drawn by the chart with the same helpers as the workers, so a task pod gets
		// exactly their env and mounts.
		v.PodTemplatesConfigMap = rel.name("pod-templates")
	}
	if rel.Broker != nil && rel.Broker.Redis != nil {
		v.Workloads = append(v.Workloads, rel.redis())
	}
	rel.metrics(v)
	v.ServiceAccounts, v.Roles = rel.rbac(v.ServiceAccounts)
	closed := []string{"migrate"}
	if v.UsersJob != nil {
		closed = append(closed, "users")
	}
	if v.LogRetention != nil {
		closed = append(closed, "log-retention")
	}
	if len(v.TaskPods) > 0 {
		closed = append(closed, "task")
	}
	v.NetworkPolicies = rel.networkPolicies(v.Workloads, closed)
	return v
}

// hash8 is a short, stable digest of its parts.
func hash8(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:8]
}

func (r *release) secretName() string {
	if r.Secrets.ExistingSecret != "" {
		return r.Secrets.ExistingSecret
	}
	return r.name("airflow")
}

func (r *release) secrets() []GeneratedSecret {
	var out []GeneratedSecret
	if r.Secrets.ExistingSecret == "" {
		s := GeneratedSecret{Name: r.secretName(), Random: []RandomKey{{Key: FernetKey, Length: 32, Base64: true}, {Key: SecretKey, Length: 32}}}
		if r.major == 3 {
			s.Random = append(s.Random, RandomKey{Key: JWTSecret, Length: 64})
		}
		out = append(out, s)
	}
	if r.Broker != nil && r.Broker.Redis != nil {
		out = append(out, GeneratedSecret{
			Name:     r.name("redis"),
			Random:   []RandomKey{{Key: "password", Length: 32}},
			RedisURL: &RedisURL{Key: "url", PasswordKey: "password", Host: fmt.Sprintf("%s:%d", r.name("redis"), RedisPort)},
		})
	}
	return out
}

func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

// env is what every Airflow container and task pod reads: the config file, the
// secrets that must be identical everywhere, and the database and broker credentials.
func (r *release) env() []corev1.EnvVar {
	s := r.secretName()
	env := []corev1.EnvVar{
		{Name: "AIRFLOW_CONFIG", Value: ConfigFile},
		{Name: "PYTHONPATH", Value: PythonDir},
		secretEnv("AIRFLOW__CORE__FERNET_KEY", s, FernetKey),
	}
	if r.major == 3 {
		env = append(env, secretEnv("AIRFLOW__API__SECRET_KEY", s, SecretKey), secretEnv("AIRFLOW__API_AUTH__JWT_SECRET", s, JWTSecret))
	} else {
		env = append(env, secretEnv("AIRFLOW__WEBSERVER__SECRET_KEY", s, SecretKey))
	}
	if d := r.Database; d.ConnectionSecret != nil {
		env = append(env, secretEnv(EnvDBURI, d.ConnectionSecret.Name, d.ConnectionSecret.Key))
	} else {
		env = append(env, secretEnv(EnvDBPassword, d.PasswordSecret.Name, d.PasswordSecret.Key))
	}
	if b := r.Broker; b != nil && b.URLSecret != nil {
		env = append(env, secretEnv("AIRFLOW__CELERY__BROKER_URL", b.URLSecret.Name, b.URLSecret.Key))
	} else if b != nil {
		env = append(env, secretEnv("AIRFLOW__CELERY__BROKER_URL", r.name("redis"), "url"))
	}
	if b := r.Airflow.SecretsBackend; b != nil && b.KwargsSecret != nil {
		env = append(env, secretEnv("AIRFLOW__SECRETS__BACKEND_KWARGS", b.KwargsSecret.Name, b.KwargsSecret.Key))
	}
	return append(env, r.Airflow.Env...)
}

// dagsFolder is core.dags_folder: the mount, or the synced checkout inside it.
func (r *release) dagsFolder() string {
	d := r.Storage.DAGs
	if g := d.GitSync; g != nil {
		return strings.TrimSuffix(d.MountPath+"/repo/"+strings.Trim(g.SubPath, "/"), "/")
	}
	return d.MountPath
}

func (r *release) airflowPods() AirflowPods {
	uid, gid := *r.Airflow.UID, *r.Airflow.GID
	p := AirflowPods{
		ImagePullPolicy: r.Airflow.ImagePullPolicy,
		PodSecurityContext: corev1.PodSecurityContext{
			RunAsUser: &uid, RunAsGroup: &gid, FSGroup: &gid, RunAsNonRoot: ptr(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		SecurityContext: restrictedContainer(),
		Env:             r.env(),
		ServiceAccount:  r.name("airflow"),
		Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.name("config")}}}},
			{Name: "python", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: r.name("python")}}}}},
		VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: ConfigDir, ReadOnly: true},
			{Name: "python", MountPath: PythonDir, ReadOnly: true}},
	}
	for _, s := range r.Airflow.ImagePullSecrets {
		p.ImagePullSecrets = append(p.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	d := r.Storage.DAGs
	switch {
	case d.NFS != nil || d.CSI != nil:
		p.addClaim("dags", r.name("dags-"+r.storageHash("dags")), d.MountPath, true)
	case d.ExistingClaim != "":
		p.addClaim("dags", d.ExistingClaim, d.MountPath, true)
	case d.GitSync != nil:
		p.Volumes = append(p.Volumes, corev1.Volume{Name: "dags", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		p.VolumeMounts = append(p.VolumeMounts, corev1.VolumeMount{Name: "dags", MountPath: d.MountPath, ReadOnly: true})
		p.InitContainers = []corev1.Container{r.gitSync("git-sync-init", true)}
		p.Sidecars = []corev1.Container{r.gitSync("git-sync", false)}
	}
	l := r.Storage.Logs
	switch {
	case l.NFS != nil || l.CSI != nil:
		p.addClaim("logs", r.name("logs-"+r.storageHash("logs")), l.MountPath, false)
	case l.ExistingClaim != "":
		p.addClaim("logs", l.ExistingClaim, l.MountPath, false)
	default:
		p.Volumes = append(p.Volumes, corev1.Volume{Name: "logs", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		p.VolumeMounts = append(p.VolumeMounts, corev1.VolumeMount{Name: "logs", MountPath: l.MountPath})
	}
	return p
}

func (p *AirflowPods) addClaim(name, claim, path string, readOnly bool) {
	p.Volumes = append(p.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	p.VolumeMounts = append(p.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: path, ReadOnly: readOnly})
}

func restrictedContainer() corev1.SecurityContext {
	return corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

func (r *release) gitSync(name string, once bool) corev1.Container {
	g := r.Storage.DAGs.GitSync
	c := corev1.Container{
		Name:  name,
		Image: g.Image,
		Args:  []string{"--repo=" + g.Repo, "--ref=" + g.Ref, "--root=" + r.Storage.DAGs.MountPath, "--link=repo", "--period=" + g.Period},
		Env:   []corev1.EnvVar{{Name: "HOME", Value: "/tmp"}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "dags", MountPath: r.Storage.DAGs.MountPath}},
	}
	if once {
		c.Args = append(c.Args, "--one-time")
	} else {
		// git-sync's "/" answers 5xx until the first sync, then 200 while the process is healthy.
		c.Args = append(c.Args, fmt.Sprintf("--http-bind=:%d", GitSyncHTTPPort))
		c.Ports = []corev1.ContainerPort{{Name: "git-sync", ContainerPort: GitSyncHTTPPort}}
		c.LivenessProbe = httpProbe("/", GitSyncHTTPPort, 30, 5)
	}
	if g.CredentialsSecret != "" {
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: g.CredentialsSecret}}}}
	}
	return c
}

// storageHash is the source hash of the DAG or log volume.
func (r *release) storageHash(which string) string {
	if which == "dags" {
		return sourceHash(r.Storage.DAGs.NFS, r.Storage.DAGs.CSI, r.Storage.DAGs.Size)
	}
	return sourceHash(r.Storage.Logs.NFS, r.Storage.Logs.CSI, r.Storage.Logs.Size)
}

func (r *release) storage() []Storage {
	var out []Storage
	add := func(which, size string, nfs *v1alpha1.NFS, csi *v1alpha1.CSI) {
		claim := r.name(which + "-" + r.storageHash(which))
		s := Storage{Volume: r.Metadata.Namespace + "-" + claim, Claim: claim, Size: size}
		if nfs != nil {
			s.Source.NFS = &corev1.NFSVolumeSource{Server: nfs.Server, Path: nfs.Path}
			s.MountOptions = nfs.MountOptions
		} else {
			s.Source.CSI = &corev1.CSIPersistentVolumeSource{Driver: csi.Driver, VolumeHandle: csi.VolumeHandle, VolumeAttributes: csi.VolumeAttributes}
			s.MountOptions = csi.MountOptions
		}
		out = append(out, s)
	}
	if d := r.Storage.DAGs; d.NFS != nil || d.CSI != nil {
		add("dags", d.Size, d.NFS, d.CSI)
	}
	if l := r.Storage.Logs; l.NFS != nil || l.CSI != nil {
		add("logs", l.Size, l.NFS, l.CSI)
	}
	return out
}

// migration needs only the config volume (the first Airflow volume) of the Airflow pods, and the
// python folder for its preflight.
func (r *release) migration(config corev1.Volume) Migration {
	timeout, _ := time.ParseDuration(r.Database.Migration.Timeout) // validated
	preflight := []string{"python", PreflightScript}
	if r.Database.Migration.AllowXComRewrites {
		preflight = append(preflight, "--allow-xcom-rewrites")
	}
	return Migration{
		JobPod: JobPod{
			Name:       r.name("migrate-" + hash8(r.Airflow.Version, r.Airflow.Image)),
			Image:      r.Airflow.Image,
			Args:       []string{"airflow", "db", "migrate"},
			Resources:  resources("250m", "512Mi", "1Gi"),
			AirflowEnv: true,
			Volumes: []corev1.Volume{config, {Name: "python", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: r.name("python")}}}}},
			VolumeMounts: []corev1.VolumeMount{{Name: config.Name, MountPath: ConfigDir, ReadOnly: true}, {Name: "python", MountPath: PythonDir, ReadOnly: true}},
		},
		Preflight: preflight,
		// A failed migration ends: one retry for a passing blip, then a failed Job whose log says why,
		// instead of restarting until helm gives up.
		ActiveDeadlineSeconds: int64(timeout.Seconds()),
		BackoffLimit:          1,
	}
}

func resources(cpu, memory, memoryLimit string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memoryLimit)},
	}
}

func httpProbe(path string, port int, period, failures int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(int32(port))}},
		PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: 5}
}

func execProbe(period, failures int32, cmd ...string) *corev1.Probe {
	// The commands start a Python CLI: on kind under load (3 DAG runs of 60 tasks at once on 2 cores)
	// `airflow jobs check` took over 30 s for 5 minutes and the kubelet restarted healthy components.
	// A probe may take its whole period, and at least 30 s.
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}},
		PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: max(period, 30), InitialDelaySeconds: 10}
}

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
		api.Component, api.Args, health = "webserver", []string{"airflow", "webserver"}, r.basePath()+"/health"
	}
	api.StartupProbe = httpProbe(health, APIPort, 10, 60)
	api.LivenessProbe = httpProbe(health, APIPort, 30, 5)
	api.ReadinessProbe = httpProbe(health, APIPort, 10, 3)
	out = append(out, r.tune(api, c.APIServer))

	sched := Workload{Name: r.name("scheduler"), Component: "scheduler", Args: []string{"airflow", "scheduler"},
		Resources: resources("500m", "1Gi", "2Gi"), Replicas: ptr(int32(1)),
		Ports:         []corev1.ContainerPort{{Name: "health", ContainerPort: SchedulerHealth}},
		StartupProbe:  httpProbe("/health", SchedulerHealth, 10, 60),
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

// kedaScaleDownSeconds replaces the HPA's default scale-down window (300 s) for queue-scaled groups:
// a worker that leaves finishes its running tasks first (Celery's warm shutdown, within the group's
// terminationGracePeriodSeconds), so holding idle workers for five minutes buys no safety, only cost.
// A minute still rides out the gap between two tasks of one DAG run.
const kedaScaleDownSeconds = 60

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

func (r *release) redis() Workload {
	red := r.Broker.Redis
	uid := int64(999)
	w := Workload{
		Name: r.name("redis"), Component: "redis", Image: red.Image, Replicas: ptr(int32(1)),
		Args:           []string{"sh", "-c", `exec redis-server --requirepass "$REDIS_PASSWORD" --save "" --appendonly no`},
		Env:            []corev1.EnvVar{secretEnv("REDIS_PASSWORD", r.name("redis"), "password")},
		Resources:      resources("100m", "128Mi", "512Mi"),
		Ports:          []corev1.ContainerPort{{Name: "redis", ContainerPort: RedisPort}},
		LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}}, PeriodSeconds: 15},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}}, PeriodSeconds: 5},
		ServiceAccount: r.name("airflow"),
		Service:        &Service{Name: r.name("redis"), Ports: []corev1.ServicePort{{Name: "redis", Port: RedisPort, TargetPort: intstr.FromString("redis")}}},
		PodSecurityContext: &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &uid, FSGroup: &uid, RunAsNonRoot: ptr(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
	}
	if red.Resources != nil {
		w.Resources = *red.Resources
	}
	sc := restrictedContainer()
	w.SecurityContext = &sc
	if p := red.Persistence; p != nil {
		// The append-only file, written every second: a restarted Redis still holds the queue.
		w.Args = []string{"sh", "-c", `exec redis-server --requirepass "$REDIS_PASSWORD" --dir /data --save "" --appendonly yes --appendfsync everysec`}
		w.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.redisClaim()}}}}
		w.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		w.Recreate = true
	}
	return w
}

// redisClaim is the claim of the Redis queue's append-only file.
func (r *release) redisClaim() string {
	if p := r.Broker.Redis.Persistence; p.ExistingClaim != "" {
		return p.ExistingClaim
	}
	return r.name("redis")
}

// claims are the claims the chart makes: the Redis queue's, unless it names an existing one.
func (r *release) claims() []Claim {
	if r.Broker == nil || r.Broker.Redis == nil || r.Broker.Redis.Persistence == nil || r.Broker.Redis.Persistence.ExistingClaim != "" {
		return nil
	}
	p := r.Broker.Redis.Persistence
	return []Claim{{Name: r.redisClaim(), Component: "redis", Size: p.Size, StorageClassName: p.StorageClassName}}
}

// rbac gives the scheduler (KubernetesExecutor) rights over pods in its own namespace, the pods that
// run pod operators the same, and each group with its own identity its ServiceAccount (with rights
// only when its tasks run pod operators). Nothing else talks to the API.
func (r *release) rbac(accounts []ServiceAccount) ([]ServiceAccount, []Role) {
	var roles []Role
	if r.anyPodOperators() {
		accounts = append(accounts, ServiceAccount{Name: r.podOperatorAccount()})
		roles = append(roles, Role{Name: r.podOperatorAccount(), ServiceAccount: r.podOperatorAccount(), Rules: podRules()})
	}
	if r.schedulerAPI() {
		rules := []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create", "delete", "get", "list", "patch", "watch", "deletecollection"}},
			{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
		}
		if r.RBAC.PodExec {
			// Executors that run task commands in existing pods (rbac.podExec).
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"create", "get"}})
		}
		accounts = append(accounts, ServiceAccount{Name: r.name("scheduler")})
		roles = append(roles, Role{Name: r.name("pod-launcher"), ServiceAccount: r.name("scheduler"), Rules: rules})
	}
	// The release's own accounts carry serviceAccount.annotations.
	for i := range accounts {
		accounts[i].Annotations = r.ServiceAccount.Annotations
	}
	for _, g := range r.TaskGroups {
		if g.ServiceAccount == nil {
			continue
		}
		name := r.groupAccount(g)
		accounts = append(accounts, ServiceAccount{Name: name, Annotations: g.ServiceAccount.Annotations})
		if r.groupPodOperators(g) {
			roles = append(roles, Role{Name: name, ServiceAccount: name, Rules: podRules()})
		}
	}
	return accounts, roles
}

// executionAPIURL is where 3.x workers and task pods reach the api-server's task API,
// keeping a base_url path (apache/airflow#51450).
func (r *release) executionAPIURL() string {
	return fmt.Sprintf("http://%s.%s:%d%s/execution/", r.apiServerName(), r.Metadata.Namespace, APIPort, r.basePath())
}

func ptr[T any](v T) *T { return &v }
