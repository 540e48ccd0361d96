package model

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Values is the chart's values.yaml: every object the chart draws, decided.
type Values struct {
	Release Release `json:"release"`
	// Labels go on every object, beside the chart's own.
	Labels map[string]string `json:"labels,omitempty"`
	// ConfigMaps maps a ConfigMap's name to its data.
	ConfigMaps map[string]map[string]string `json:"configMaps"`
	// Airflow is what every Airflow pod shares.
	Airflow AirflowPods `json:"airflow"`
	// Secrets are created once and kept: every later render reuses the stored values.
	Secrets   []GeneratedSecret `json:"secrets,omitempty"`
	Migration Migration         `json:"migration"`
	// UsersJob, on Airflow 2, creates and updates the FAB users from their Secrets.
	UsersJob *UsersJob `json:"usersJob,omitempty"`
	// Logins is who can log in and where each password is, for NOTES.txt.
	Logins Logins `json:"logins"`
	// URL is where users open the UI (ui.baseURL), for NOTES.txt; empty means port-forward.
	URL string `json:"url,omitempty"`
	// UI is the Ingress or HTTPRoute to the UI, if any.
	UI *UIRoute `json:"ui,omitempty"`
	// LogRetention, when set, deletes old files from the log volume daily.
	LogRetention *LogRetention `json:"logRetention,omitempty"`
	Workloads    []Workload    `json:"workloads"`
	TaskPods     []TaskPod     `json:"taskPods,omitempty"`
	// PodTemplatesConfigMap holds the task pods' template files, mounted in the scheduler.
	PodTemplatesConfigMap string    `json:"podTemplatesConfigMap,omitempty"`
	Storage               []Storage `json:"storage,omitempty"`
	// Claims are the claims the chart makes for a StorageClass to provision (the Redis queue's).
	Claims          []Claim          `json:"claims,omitempty"`
	ServiceAccounts []ServiceAccount `json:"serviceAccounts"`
	// NetworkPolicies, one per component, when networkPolicy.enabled.
	NetworkPolicies []NetworkPolicy `json:"networkPolicies,omitempty"`
	Roles           []Role          `json:"roles,omitempty"`
	// ServiceMonitor, when set, has the Prometheus Operator scrape the StatsD exporter.
	ServiceMonitor *ServiceMonitor `json:"serviceMonitor,omitempty"`
}

// Logins is what NOTES.txt says about logging in.
type Logins struct {
	Users []Login `json:"users,omitempty"`
	// EveryoneIsAdmin is auth.insecureEveryoneIsAdmin: no login at all.
	EveryoneIsAdmin bool `json:"everyoneIsAdmin,omitempty"`
}

// Login is one auth.users entry: its role and the Secret key holding its password.
type Login struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Secret   string `json:"secret"`
	Key      string `json:"key"`
}

// Release is the release the values were made for; the chart refuses any other.
type Release struct {
	Name           string `json:"name"`
	Namespace      string `json:"namespace"`
	AirflowVersion string `json:"airflowVersion"`
}

// AirflowPods is what every Airflow container and task pod shares.
type AirflowPods struct {
	ImagePullPolicy    corev1.PullPolicy             `json:"imagePullPolicy"`
	ImagePullSecrets   []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	PodSecurityContext corev1.PodSecurityContext     `json:"podSecurityContext"`
	SecurityContext    corev1.SecurityContext        `json:"securityContext"`
	Env                []corev1.EnvVar               `json:"env"`
	Volumes            []corev1.Volume               `json:"volumes"`
	VolumeMounts       []corev1.VolumeMount          `json:"volumeMounts"`
	// InitContainers run before every Airflow container (git-sync's first pull).
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	// Sidecars run beside every long-running Airflow container (git-sync).
	Sidecars []corev1.Container `json:"sidecars,omitempty"`
	// ServiceAccount runs every Airflow pod that needs no Kubernetes API access.
	ServiceAccount string `json:"serviceAccount"`
}

// GeneratedSecret is a Secret whose random keys are made on first install only.
type GeneratedSecret struct {
	Name string `json:"name"`
	// Random keys get randAlphaNum(length) the first time.
	Random []RandomKey `json:"random"`
	// RedisURL, when set, is a key holding redis://:<password>@<host>:6379/0.
	RedisURL *RedisURL `json:"redisURL,omitempty"`
}

// RandomKey is one generated key. Base64 keys (Fernet) are encoded once more.
type RandomKey struct {
	Key    string `json:"key"`
	Length int    `json:"length"`
	Base64 bool   `json:"base64,omitempty"`
}

// RedisURL builds a broker URL from a generated password key.
type RedisURL struct {
	Key         string `json:"key"`
	PasswordKey string `json:"passwordKey"`
	Host        string `json:"host"`
}

// Migration is the Job running `airflow db migrate`. Name carries a hash of the Airflow
// version and image (a new version re-runs migrations even on the same image) and the
// chart appends a hash of the pod spec: a changed Job is a new Job, never an edit of an
// immutable one. Its one container runs airkube_preflight.py, which refuses a downgrade and XCom values
// the migration would fail on or rewrite before the schema is touched, then `airflow db migrate`.
type Migration struct {
	JobPod
	// ActiveDeadlineSeconds bounds the Job (database.migration.timeout); BackoffLimit is its retries.
	ActiveDeadlineSeconds int64 `json:"activeDeadlineSeconds"`
	BackoffLimit          int32 `json:"backoffLimit"`
}

// JobPod is a run-to-completion pod of one container on an Airflow image, drawn by one chart
// helper for the migration Job and the log-retention CronJob.
type JobPod struct {
	Name      string                      `json:"name"`
	Image     string                      `json:"image"`
	Args      []string                    `json:"args"`
	Resources corev1.ResourceRequirements `json:"resources"`
	// AirflowEnv gives the container the env every Airflow container has (secrets, database).
	AirflowEnv bool `json:"airflowEnv"`
	// Env is the container's own env, after the Airflow env.
	Env []corev1.EnvVar `json:"env,omitempty"`
	// WaitForMigrations runs `airflow db check-migrations` first, as the components do.
	WaitForMigrations bool `json:"waitForMigrations,omitempty"`
	// Volumes is the subset of the Airflow volumes the pod needs.
	Volumes      []corev1.Volume      `json:"volumes"`
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts"`
}

// Workload is one Deployment.
type Workload struct {
	Name      string `json:"name"`
	Component string `json:"component"`
	TaskGroup string `json:"taskGroup,omitempty"`
	// Airflow workloads get the shared env, volumes, init containers and sidecars.
	Airflow bool `json:"airflow"`
	// Replicas is empty when an autoscaler owns the count.
	Replicas *int32 `json:"replicas,omitempty"`
	// Recreate stops the old pod before the new one starts: for a pod that holds a ReadWriteOnce claim.
	Recreate                      bool                        `json:"recreate,omitempty"`
	Image                         string                      `json:"image"`
	Args                          []string                    `json:"args"`
	Env                           []corev1.EnvVar             `json:"env,omitempty"`
	Ports                         []corev1.ContainerPort      `json:"ports,omitempty"`
	Resources                     corev1.ResourceRequirements `json:"resources"`
	StartupProbe                  *corev1.Probe               `json:"startupProbe,omitempty"`
	LivenessProbe                 *corev1.Probe               `json:"livenessProbe,omitempty"`
	ReadinessProbe                *corev1.Probe               `json:"readinessProbe,omitempty"`
	NodeSelector                  map[string]string           `json:"nodeSelector,omitempty"`
	Tolerations                   []corev1.Toleration         `json:"tolerations,omitempty"`
	Affinity                      *corev1.Affinity            `json:"affinity,omitempty"`
	ServiceAccount                string                      `json:"serviceAccount"`
	AutomountToken                bool                        `json:"automountServiceAccountToken"`
	TerminationGracePeriodSeconds *int64                      `json:"terminationGracePeriodSeconds,omitempty"`
	Volumes                       []corev1.Volume             `json:"volumes,omitempty"`
	VolumeMounts                  []corev1.VolumeMount        `json:"volumeMounts,omitempty"`
	// PodSecurityContext and SecurityContext override the Airflow ones (Redis; a task group's own uid).
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
	SecurityContext    *corev1.SecurityContext    `json:"securityContext,omitempty"`
	WaitForMigrations  bool                       `json:"waitForMigrations"`
	// InitContainers are the workload's own, after wait-for-migrations (a task group's or a
	// component's, the api-server's auth-passwords); they get the restricted context.
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	// Sidecars run beside the main container (a task group's or a component's own), with the
	// restricted context.
	Sidecars []corev1.Container `json:"sidecars,omitempty"`
	// Checksums names the ConfigMaps this workload reads; their data's hash rolls it.
	Checksums []string `json:"checksums,omitempty"`
	// PodAnnotations go on the pod template beside the checksums.
	PodAnnotations map[string]string `json:"podAnnotations,omitempty"`
	// PodOptions are the spec's (labels, priority, spread, envFrom, a group's security context).
	PodOptions `json:",inline"`
	// SecretVersions names user Secrets the workload reads at start; a change to one (its
	// resourceVersion, read by helm at upgrade) rolls it.
	SecretVersions []string                   `json:"secretVersions,omitempty"`
	Service        *Service                   `json:"service,omitempty"`
	PDB            bool                       `json:"pdb,omitempty"`
	KEDA           *KEDA                      `json:"keda,omitempty"`
	HPA            []autoscalingv2.MetricSpec `json:"hpa,omitempty"`
	MinReplicas    int32                      `json:"minReplicas,omitempty"`
	MaxReplicas    int32                      `json:"maxReplicas,omitempty"`
}

// Service exposes a workload's ports inside the cluster.
type Service struct {
	Name  string               `json:"name"`
	Ports []corev1.ServicePort `json:"ports"`
}

// KEDA scales a Celery group with the count of its queued and running tasks.
type KEDA struct {
	// Trigger is the scaler type: postgresql or mysql.
	Trigger  string            `json:"trigger"`
	Metadata map[string]string `json:"metadata"`
	// ScaleDownSeconds is how long the group must need fewer workers before the HPA removes one.
	ScaleDownSeconds int32 `json:"scaleDownSeconds"`
}

// TaskPod is one KubernetesExecutor task group's pod template file.
type TaskPod struct {
	Group string `json:"group"`
	// ServiceAccount, Volumes and VolumeMounts add to the Airflow pods' (pod operators' API access).
	ServiceAccount string               `json:"serviceAccount,omitempty"`
	Volumes        []corev1.Volume      `json:"volumes,omitempty"`
	VolumeMounts   []corev1.VolumeMount `json:"volumeMounts,omitempty"`
	PodAnnotations map[string]string    `json:"podAnnotations,omitempty"`
	// InitContainers and Sidecars are the group's own, with the restricted context.
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	Sidecars       []corev1.Container `json:"sidecars,omitempty"`
	// PodSecurityContext replaces the Airflow pods' (a task group's own uid and groups).
	PodSecurityContext *corev1.PodSecurityContext `json:"podSecurityContext,omitempty"`
	PodOptions         `json:",inline"`
	File               string                      `json:"file"`
	Image              string                      `json:"image"`
	Env                []corev1.EnvVar             `json:"env,omitempty"`
	Resources          corev1.ResourceRequirements `json:"resources"`
	NodeSelector       map[string]string           `json:"nodeSelector,omitempty"`
	Tolerations        []corev1.Toleration         `json:"tolerations,omitempty"`
	Affinity           *corev1.Affinity            `json:"affinity,omitempty"`
}

// Storage is a PersistentVolume pre-bound to its claim; both outlive the release.
type Storage struct {
	// Volume is the cluster-wide PersistentVolume's name; it includes the namespace.
	Volume       string                        `json:"volume"`
	Claim        string                        `json:"claim"`
	Size         string                        `json:"size"`
	MountOptions []string                      `json:"mountOptions,omitempty"`
	Source       corev1.PersistentVolumeSource `json:"source"`
}

// Claim is a ReadWriteOnce PersistentVolumeClaim the chart makes once and keeps on uninstall.
type Claim struct {
	Name      string `json:"name"`
	Component string `json:"component"`
	Size      string `json:"size"`
	// StorageClassName is nil for the cluster's default class.
	StorageClassName *string `json:"storageClassName,omitempty"`
}

// ServiceAccount is one identity of the release's pods.
type ServiceAccount struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Role is a namespaced Role bound to one service account.
type Role struct {
	Name           string              `json:"name"`
	ServiceAccount string              `json:"serviceAccount"`
	Rules          []rbacv1.PolicyRule `json:"rules"`
}
