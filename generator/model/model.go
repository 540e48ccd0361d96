package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
	DAGBundleDir    = "/opt/airkube/dag-bundles"
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
	if list := rel.dagBundleConfig(); list != "" {
		v.ConfigMaps[rel.name("dag-bundles")] = map[string]string{"dag_bundle_config_list": list}
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
	rel.withDAGBundle(v.Workloads, taskPods)
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
	readOnlyRoot(v, rel.Storage.Logs.MountPath)
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

// restrictedContainer is every container's context: the restricted Pod Security Standard, and a
// read-only root filesystem (what a container writes goes to its volumes or TmpDir: readOnlyRoot).
func restrictedContainer() corev1.SecurityContext {
	return corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		ReadOnlyRootFilesystem:   ptr(true),
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

// kedaScaleDownSeconds replaces the HPA's default scale-down window (300 s) for queue-scaled groups:
// a worker that leaves finishes its running tasks first (Celery's warm shutdown, within the group's
// terminationGracePeriodSeconds), so holding idle workers for five minutes buys no safety, only cost.
// A minute still rides out the gap between two tasks of one DAG run.
const kedaScaleDownSeconds = 60

func ptr[T any](v T) *T { return &v }
