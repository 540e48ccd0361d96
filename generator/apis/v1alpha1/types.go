package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// APIVersion and Kind identify an airkube spec document.
const (
	APIVersion = "airkube/v1alpha1"
	Kind       = "AirflowRelease"
)

// AirflowRelease is one Airflow installation: the whole spec file.
type AirflowRelease struct {
	APIVersion    string        `json:"apiVersion" doc:"airkube/v1alpha1"`
	Kind          string        `json:"kind" doc:"AirflowRelease"`
	Metadata      Metadata      `json:"metadata"`
	Airflow       Airflow       `json:"airflow,omitempty"`
	Executor      string        `json:"executor,omitempty" doc:"LocalExecutor, CeleryExecutor, KubernetesExecutor, a custom executor's class path (alias:module.Class), a comma list of those (the first is the default), or CeleryKubernetesExecutor (Airflow 2.x only)"`
	Database      Database      `json:"database"`
	Broker        *Broker       `json:"broker,omitempty" doc:"Celery's message broker; required with CeleryExecutor"`
	Storage       Storage       `json:"storage,omitempty"`
	XCom          XCom          `json:"xcom,omitempty" doc:"where large XComs go"`
	KubernetesAPI KubernetesAPI `json:"kubernetesAPI,omitempty"`
	Secrets       Secrets       `json:"secrets,omitempty"`
	Auth          Auth          `json:"auth,omitempty" doc:"who can log in to the UI and the REST API"`
	UI            UI            `json:"ui,omitempty" doc:"how users reach the UI: its URL and an Ingress or a Gateway API route"`
	NetworkPolicy NetworkPolicy `json:"networkPolicy,omitempty" doc:"NetworkPolicies: each component accepts traffic only from what needs it"`
	// ServiceAccount annotates the release's own ServiceAccounts (a cloud identity for all of it).
	ServiceAccount ServiceAccount `json:"serviceAccount,omitempty" doc:"annotations of the release's ServiceAccounts, e.g. a cloud identity (IRSA, GKE Workload Identity, Alibaba RRSA)"`
	RBAC           RBAC           `json:"rbac,omitempty" doc:"extra API rights"`
	Metrics        *Metrics       `json:"metrics,omitempty" doc:"Prometheus metrics: Airflow's StatsD metrics through an exporter in the release"`
	Components     Components     `json:"components,omitempty"`
	TaskGroups     []TaskGroup    `json:"taskGroups,omitempty" doc:"where tasks run; each group has its own image and settings. The first group of each executor is that executor's default"`
}

// Metadata names the release. The chart refuses to install in another namespace.
type Metadata struct {
	Name      string `json:"name" doc:"Helm release name and prefix of every object (DNS label, at most 30 characters)"`
	Namespace string `json:"namespace" doc:"the namespace the release is installed in (helm --namespace)"`
}

// Airflow selects the Airflow version, the default image and extra airflow.cfg settings.
type Airflow struct {
	Version string `json:"version,omitempty" doc:"2.11.x or 3.0–3.3; default 3.3.2"`
	Image   string `json:"image,omitempty" doc:"default image of every component and task group; default apache/airflow:<version>"`
	// ImagePullPolicy applies to every Airflow container.
	ImagePullPolicy  corev1.PullPolicy            `json:"imagePullPolicy,omitempty"`
	ImagePullSecrets []string                     `json:"imagePullSecrets,omitempty"`
	UID              *int64                       `json:"uid,omitempty" doc:"user id of every Airflow process (default 50000); match your NAS export's owner"`
	GID              *int64                       `json:"gid,omitempty" doc:"group id of every Airflow process and fsGroup (default 0)"`
	Config           map[string]map[string]string `json:"config,omitempty" doc:"extra airflow.cfg settings: section -> key -> value, checked against the version's keys"`
	Env              []corev1.EnvVar              `json:"env,omitempty" doc:"extra environment of every Airflow container and task pod"`
	Labels           map[string]string            `json:"labels,omitempty" doc:"extra labels on every object"`
	// Connections and Variables come only from Secrets, as AIRFLOW_CONN_* and AIRFLOW_VAR_* env.
	Connections    []Connection    `json:"connections,omitempty" doc:"Airflow connections from Secrets (AIRFLOW_CONN_<ID>), in every pod that parses DAGs or runs tasks"`
	Variables      []Variable      `json:"variables,omitempty" doc:"Airflow variables from Secrets (AIRFLOW_VAR_<KEY>), in every pod that parses DAGs or runs tasks"`
	SecretsBackend *SecretsBackend `json:"secretsBackend,omitempty" doc:"a secrets backend class ([secrets] backend) with its kwargs from a Secret"`
}

// Connection is one Airflow connection whose URI or JSON lives in a Secret key.
type Connection struct {
	ID     string    `json:"id" doc:"the conn_id; letters, digits and '_'"`
	Secret SecretKey `json:"secret" doc:"the Secret key holding the connection as a URI or JSON"`
}

// Variable is one Airflow variable whose value lives in a Secret key.
type Variable struct {
	Key    string    `json:"key" doc:"the variable's key; letters, digits and '_'"`
	Secret SecretKey `json:"secret"`
}

// SecretsBackend is Airflow's [secrets] backend, its kwargs (often credentials) in a Secret.
type SecretsBackend struct {
	Class        string     `json:"class" doc:"e.g. airflow.providers.hashicorp.secrets.vault.VaultBackend"`
	KwargsSecret *SecretKey `json:"kwargsSecret,omitempty" doc:"the Secret key holding backend_kwargs (JSON)"`
}

// Database is an existing external database. Either host..passwordSecret or connectionSecret.
type Database struct {
	Type             string     `json:"type,omitempty" doc:"postgres or mysql"`
	Host             string     `json:"host,omitempty" doc:"the database server"`
	Port             int32      `json:"port,omitempty" doc:"default 5432 (postgres) or 3306 (mysql)"`
	Name             string     `json:"name,omitempty" doc:"the database"`
	User             string     `json:"user,omitempty" doc:"the database user"`
	PasswordSecret   *SecretKey `json:"passwordSecret,omitempty" doc:"the Secret holding the password; it is read at run time and never copied"`
	SSLMode          string     `json:"sslMode,omitempty" doc:"postgres: disable, allow, prefer, require, verify-ca, verify-full; mysql: DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"`
	ConnectionSecret *SecretKey `json:"connectionSecret,omitempty" doc:"instead of host..passwordSecret: a Secret key holding the whole SQLAlchemy URI"`
	Migration        Migration  `json:"migration,omitempty" doc:"how the migration Job runs airflow db migrate"`
}

// Migration bounds the migration Job and says what its preflight may let through. The preflight runs
// first, in the new image: it refuses a database newer than the new Airflow (a downgrade) and, from
// 2.x to 3.x, XCom values the 3.0 migration would fail on or rewrite, naming their rows, before the
// schema is touched.
type Migration struct {
	Timeout string `json:"timeout,omitempty" doc:"the Job fails after this long (activeDeadlineSeconds), with its reason in its log; give helm a --timeout as long; default 1h"`
	// AllowXComRewrites lets the target's own migration sanitise values instead of refusing them.
	AllowXComRewrites bool `json:"allowXComRewrites,omitempty" doc:"2.x to 3.x: let Airflow's migration rewrite XCom values strict JSON cannot hold (NaN and Infinity become null, U+0000 is removed) where it can, instead of stopping the upgrade to let you fix them"`
}

// SecretKey points at one key of a Secret in the release's namespace.
type SecretKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Broker is Celery's broker: a bundled Redis or an existing broker's URL in a Secret.
type Broker struct {
	Redis     *Redis     `json:"redis,omitempty" doc:"a bundled Redis; its password is generated once and kept"`
	URLSecret *SecretKey `json:"urlSecret,omitempty" doc:"a Secret key holding the broker URL of an existing broker"`
	// VisibilityTimeout is decided on purpose: Redis (and SQS) hand a task that is still running after
	// it to a second worker, so it must be longer than the longest Celery task.
	VisibilityTimeout string `json:"visibilityTimeout,omitempty" doc:"longer than the longest Celery task, or Redis hands a running task to a second worker; default 24h"`
}

// Redis is the bundled broker.
type Redis struct {
	Image     string                       `json:"image,omitempty" doc:"default redis:7.4-bookworm"`
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Persistence keeps the queue on disk: without it, a task queued when Redis restarts is sent again
	// only after scheduler.task_queued_timeout.
	Persistence *RedisPersistence `json:"persistence,omitempty" doc:"keep the queue on disk (Redis' append-only file, written every second), so that tasks queued when Redis restarts are still there; without it the queue lives in memory and such a task is sent again after scheduler.task_queued_timeout"`
}

// RedisPersistence is where Redis keeps its append-only file: an existing claim, or a claim the chart
// makes once and keeps on uninstall.
type RedisPersistence struct {
	ExistingClaim    string  `json:"existingClaim,omitempty" doc:"a PersistentVolumeClaim (ReadWriteOnce) to keep it in"`
	Size             string  `json:"size,omitempty" doc:"else the chart makes the claim <release>-redis of this size, kept on uninstall; default 1Gi"`
	StorageClassName *string `json:"storageClassName,omitempty" doc:"that claim's StorageClass; default the cluster's default class"`
}

// Storage says where DAGs come from, where logs go, and which data volumes task groups may mount.
type Storage struct {
	DAGs    DAGs         `json:"dags,omitempty"`
	Logs    Logs         `json:"logs,omitempty"`
	Volumes []DataVolume `json:"volumes,omitempty" doc:"data volumes (NAS exports, CSI volumes, existing claims) that task groups and components mount by name"`
}

// DataVolume is one data volume: the GRIB archive, radar volumes, model output. NFS and CSI volumes
// get a pre-bound PersistentVolume and claim that outlive the release, like DAGs and logs.
type DataVolume struct {
	Name          string `json:"name" doc:"DNS label; task groups and components list it in their volumes"`
	NFS           *NFS   `json:"nfs,omitempty"`
	CSI           *CSI   `json:"csi,omitempty"`
	ExistingClaim string `json:"existingClaim,omitempty"`
	MountPath     string `json:"mountPath" doc:"where the pods of the groups and components that list it see it"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
	Size          string `json:"size,omitempty" doc:"default 10Gi"`
}

// XCom says where XComs are stored.
type XCom struct {
	ObjectStorage *XComObjectStorage `json:"objectStorage,omitempty" doc:"Airflow 3: XComs above threshold go to object storage (the common.io provider's backend); the database keeps a reference"`
}

// XComObjectStorage is the common.io provider's object-storage XCom backend.
type XComObjectStorage struct {
	Path        string `json:"path" doc:"where XComs go, as a URL with the connection in it: s3://aws_default@bucket/xcom, or file:///mnt/xcom on a writable data volume that every task group mounts"`
	Threshold   *int64 `json:"threshold,omitempty" doc:"bytes; larger XComs go to the path, smaller stay in the database; 0 sends all; default 1048576"`
	Compression string `json:"compression,omitempty" doc:"gzip, bz2, zip, lzma or snappy; default none"`
}

// DAGs has exactly one source. Without any, DAGs are baked into the image.
type DAGs struct {
	NFS           *NFS      `json:"nfs,omitempty"`
	CSI           *CSI      `json:"csi,omitempty"`
	ExistingClaim string    `json:"existingClaim,omitempty" doc:"an existing ReadWriteMany (or ReadOnlyMany) PersistentVolumeClaim"`
	GitSync       *GitSync  `json:"gitSync,omitempty"`
	Git           *GitDAGs  `json:"git,omitempty" doc:"Airflow 3: DAGs from a git repository as a DAG bundle (GitDagBundle); every DAG run keeps the commit it started on"`
	Image         *struct{} `json:"image,omitempty" doc:"DAGs are baked into every image at mountPath"`
	MountPath     string    `json:"mountPath,omitempty" doc:"core.dags_folder; default /opt/airflow/dags"`
	Size          string    `json:"size,omitempty" doc:"capacity written on the PersistentVolume (informational for NFS); default 10Gi"`
}

// Logs has exactly one destination. Without any, logs stay in each pod (emptyDir).
type Logs struct {
	NFS           *NFS       `json:"nfs,omitempty"`
	CSI           *CSI       `json:"csi,omitempty"`
	ExistingClaim string     `json:"existingClaim,omitempty"`
	Remote        *RemoteLog `json:"remote,omitempty" doc:"remote logging (S3, GCS, OSS, ...); local logs are kept in an emptyDir"`
	MountPath     string     `json:"mountPath,omitempty" doc:"logging.base_log_folder; default /opt/airflow/logs"`
	Size          string     `json:"size,omitempty" doc:"default 10Gi"`
	// RetentionDays keeps a shared log volume from growing forever, as the community chart's log groomer.
	RetentionDays *int32 `json:"retentionDays,omitempty" doc:"a daily CronJob deletes log files older than this many days from the log volume, then folders empty for an hour; needs nfs, csi or existingClaim"`
}

// NFS is an NFS export (a NAS share).
type NFS struct {
	Server       string   `json:"server" doc:"the NFS server host name or address"`
	Path         string   `json:"path" doc:"the exported folder"`
	MountOptions []string `json:"mountOptions,omitempty" doc:"e.g. [nfsvers=4.1, hard]; the same on every node"`
}

// CSI is a volume of a CSI driver (EFS, NAS, Filestore ...).
type CSI struct {
	Driver           string            `json:"driver" doc:"the CSI driver, e.g. efs.csi.aws.com"`
	VolumeHandle     string            `json:"volumeHandle" doc:"the volume handle the driver understands"`
	VolumeAttributes map[string]string `json:"volumeAttributes,omitempty"`
	MountOptions     []string          `json:"mountOptions,omitempty"`
}

// GitSync pulls DAGs from a git repository into every pod.
type GitSync struct {
	Repo              string `json:"repo"`
	Ref               string `json:"ref,omitempty" doc:"branch, tag or commit; default HEAD"`
	SubPath           string `json:"subPath,omitempty" doc:"folder of the repository holding the DAGs"`
	Period            string `json:"period,omitempty" doc:"default 60s"`
	Image             string `json:"image,omitempty" doc:"default registry.k8s.io/git-sync/git-sync:v4.4.2"`
	CredentialsSecret string `json:"credentialsSecret,omitempty" doc:"Secret with GITSYNC_USERNAME/GITSYNC_PASSWORD keys"`
}

// GitDAGs is Airflow 3's GitDagBundle: the dag-processor, each Celery worker and each task pod keep
// their own clone, and a task runs the commit its DAG run was parsed from.
type GitDAGs struct {
	Repo            string `json:"repo" doc:"the repository URL: https://, http://, ssh://, git:// or git@host:path"`
	Ref             string `json:"ref,omitempty" doc:"the branch or tag the dag-processor follows; default main"`
	SubPath         string `json:"subPath,omitempty" doc:"folder of the repository holding the DAGs"`
	RefreshInterval string `json:"refreshInterval,omitempty" doc:"how often the dag-processor fetches the repository, e.g. 30s; default [dag_processor] refresh_interval (airkube: 30s)"`
	ConnID          string `json:"connId,omitempty" doc:"a private repository's credentials: an Airflow connection of type git (login and token, or an SSH key in its extra), best listed in airflow.connections so it comes from a Secret"`
	Name            string `json:"name,omitempty" doc:"the bundle's name, shown with each DAG; default dags"`
}

// RemoteLog sends task logs to object storage.
type RemoteLog struct {
	BaseLogFolder string `json:"baseLogFolder" doc:"e.g. s3://bucket/logs"`
	ConnID        string `json:"connId,omitempty" doc:"the Airflow connection with the storage credentials"`
}

// KubernetesAPI says how every client of the release (the KubernetesExecutor, pod operators, DAG code)
// reaches and trusts the API server: airkube writes one kubeconfig for all of them.
type KubernetesAPI struct {
	Server string `json:"server,omitempty" doc:"the API server's URL; default https://kubernetes.default.svc"`
	// PodOperators gives the pods that run tasks (workers, task pods, the triggerer, a LocalExecutor
	// scheduler) a token, the kubeconfig and the rights to run pods in the namespace.
	PodOperators     bool      `json:"podOperators,omitempty" doc:"tasks run KubernetesPodOperator or other Kubernetes clients: their pods get the kubeconfig, a token and the rights to run pods in the release's namespace only"`
	CABundle         *CABundle `json:"caBundle,omitempty" doc:"CA certificates every client trusts for the API server; default the cluster's own (kube-root-ca.crt)"`
	VerifySSL        *bool     `json:"verifySSL,omitempty" doc:"false turns TLS checks off; needs allowInsecureTLS: true"`
	AllowInsecureTLS bool      `json:"allowInsecureTLS,omitempty" doc:"explicit opt-in for verifySSL: false"`
}

// CABundle is a ConfigMap or a Secret key holding PEM certificates.
type CABundle struct {
	ConfigMap string `json:"configMap,omitempty" doc:"a ConfigMap holding the PEM bundle"`
	Secret    string `json:"secret,omitempty" doc:"or a Secret holding it"`
	Key       string `json:"key,omitempty" doc:"default ca.crt"`
}

// Secrets names an existing Secret with the keys that must never change. Without it,
// the chart creates them once and keeps them across upgrades and uninstalls.
type Secrets struct {
	ExistingSecret string `json:"existingSecret,omitempty" doc:"a Secret with keys fernet-key, secret-key and (3.x) jwt-secret"`
}

// Auth says who can log in. Passwords live only in the user's Secrets: with SimpleAuthManager (3.x)
// the api-server reads them from a file built at pod start; with FAB (2.x, or 3.x by choice) a Job
// creates and updates the FAB users from them.
type Auth struct {
	// Manager is the auth manager: FAB keeps users and roles in the database and takes OAuth or LDAP
	// through webserver_config.py; SimpleAuthManager has only auth.users.
	Manager string `json:"manager,omitempty" doc:"simple (Airflow 3's SimpleAuthManager) or fab (the FAB auth manager: users and roles in the database, OAuth or LDAP through webserverConfig; on 3.x the image needs apache-airflow-providers-fab, as apache/airflow's has); default fab on 2.x, which has no other, and simple on 3.x"`
	Users   []User `json:"users,omitempty" doc:"the UI and REST API users; without any, nobody can log in with a known password"`
	// WebserverConfig replaces FAB's default webserver_config.py (login through OIDC, LDAP, ...).
	WebserverConfig *ConfigMapKey `json:"webserverConfig,omitempty" doc:"FAB only: a ConfigMap key holding webserver_config.py, e.g. for OIDC or LDAP (webserver.config_file on 2.x, fab.config_file on 3.x)"`
	// InsecureEveryoneIsAdmin is the loud opt-in for simple_auth_manager_all_admins.
	InsecureEveryoneIsAdmin bool `json:"insecureEveryoneIsAdmin,omitempty" doc:"SimpleAuthManager only: anyone who reaches the UI is an admin, with no login (simple_auth_manager_all_admins); for throwaway test releases"`
}

// Auth managers (Auth.Manager).
const (
	AuthSimple = "simple"
	AuthFAB    = "fab"
)

// UI is where users open Airflow. The host and path of the Ingress or HTTPRoute come from BaseURL.
type UI struct {
	BaseURL string     `json:"baseURL,omitempty" doc:"the URL users open, e.g. https://airflow.example.com/weather; api.base_url (3.x) or webserver.base_url (2.x). A path is kept on the execution API's in-cluster URL too"`
	Ingress *UIIngress `json:"ingress,omitempty" doc:"a networking.k8s.io/v1 Ingress for baseURL's host and path"`
	Gateway *UIGateway `json:"gateway,omitempty" doc:"or a gateway.networking.k8s.io/v1 HTTPRoute for baseURL's host and path, attached to an existing Gateway"`
}

// UIIngress is the Ingress to the api-server (3.x) or webserver (2.x).
type UIIngress struct {
	ClassName   string            `json:"className,omitempty" doc:"the IngressClass; default the cluster's default class"`
	TLSSecret   string            `json:"tlsSecret,omitempty" doc:"a kubernetes.io/tls Secret for baseURL's host (baseURL must be https)"`
	Annotations map[string]string `json:"annotations,omitempty" doc:"e.g. the controller's timeouts or body size"`
}

// UIGateway attaches an HTTPRoute to a Gateway someone else runs.
type UIGateway struct {
	Name        string `json:"name" doc:"the Gateway"`
	Namespace   string `json:"namespace,omitempty" doc:"the Gateway's namespace; default the release's"`
	SectionName string `json:"sectionName,omitempty" doc:"the Gateway listener to attach to; default all that allow the route"`
}

// NetworkPolicy turns on the release's NetworkPolicies. Each component's ports accept the release's
// own pods only (the execution API, Redis, task log servers); the UI port also accepts UIFrom.
// Outgoing traffic is not restricted: the database, the NAS and the Kubernetes API are outside.
type NetworkPolicy struct {
	Enabled bool                             `json:"enabled,omitempty"`
	UIFrom  []networkingv1.NetworkPolicyPeer `json:"uiFrom,omitempty" doc:"who else may reach the UI port, e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]; default with ui.ingress or ui.gateway: every namespace, else nobody"`
	Egress  *Egress                          `json:"egress,omitempty" doc:"limit where the release's pods may connect (default: anywhere)"`
}

// Egress limits the release's outgoing connections to what it needs: DNS, the database, the
// Kubernetes API, the release's own pods, and the listed addresses.
type Egress struct {
	To            []string `json:"to,omitempty" doc:"CIDRs the pods may also reach, on any port: object storage, git servers, an external broker, the systems tasks read, e.g. [10.20.0.0/16]"`
	KubernetesAPI []string `json:"kubernetesAPI,omitempty" doc:"the API server's addresses as CIDRs (kubectl get endpointslices -l kubernetes.io/service-name=kubernetes -n default), for releases that use the API; default any address on its ports (443, 6443)"`
}

// User is one login. The username and role are in the spec; the password only in its Secret.
type User struct {
	Username       string     `json:"username" doc:"letters, digits, '.', '_', '-' and '@'"`
	Role           string     `json:"role" doc:"Admin, Op, User or Viewer (FAB also Public)"`
	PasswordSecret *SecretKey `json:"passwordSecret" doc:"the Secret key holding the password; changing it takes effect at the next helm upgrade"`
	Email          string     `json:"email,omitempty" doc:"FAB only: the user's email; default <username>@localhost"`
}

// ConfigMapKey points at one key of a ConfigMap in the release's namespace.
type ConfigMapKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Metrics sends every Airflow component's and task's StatsD metrics to a StatsD exporter in the
// release, which serves them to Prometheus with the DAG, task, pool and executor as labels.
type Metrics struct {
	StatsD *StatsD `json:"statsd" doc:"the StatsD exporter; statsd: {} for the defaults"`
	// ServiceMonitor is for clusters that run the Prometheus Operator; others scrape the Service.
	ServiceMonitor bool `json:"serviceMonitor,omitempty" doc:"a monitoring.coreos.com/v1 ServiceMonitor for the exporter (needs the Prometheus Operator's CRDs); match your Prometheus' selector with airflow.labels"`
}

// StatsD is the exporter's pod.
type StatsD struct {
	Image     string                       `json:"image,omitempty" doc:"default quay.io/prometheus/statsd-exporter:v0.31.0"`
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// Components tunes the release's long-running components.
type Components struct {
	APIServer    *Component `json:"apiServer,omitempty" doc:"3.x api-server, or 2.x webserver"`
	Scheduler    *Component `json:"scheduler,omitempty"`
	DAGProcessor *Component `json:"dagProcessor,omitempty" doc:"always on 3.x; on 2.x set enabled: true for a standalone one"`
	Triggerer    *Component `json:"triggerer,omitempty"`
}

// Component is one long-running Airflow component.
type Component struct {
	Enabled                   *bool                             `json:"enabled,omitempty" doc:"triggerer and 2.x dag-processor may be turned off/on"`
	Replicas                  *int32                            `json:"replicas,omitempty" doc:"default 1; more than 1 adds a PodDisruptionBudget"`
	Resources                 *corev1.ResourceRequirements      `json:"resources,omitempty"`
	NodeSelector              map[string]string                 `json:"nodeSelector,omitempty"`
	Tolerations               []corev1.Toleration               `json:"tolerations,omitempty"`
	Affinity                  *corev1.Affinity                  `json:"affinity,omitempty"`
	PodAnnotations            map[string]string                 `json:"podAnnotations,omitempty" doc:"annotations of the pods (sidecar injectors, backup tools)"`
	PodLabels                 map[string]string                 `json:"podLabels,omitempty" doc:"extra labels of the pods; airkube's selector labels cannot be set"`
	PriorityClassName         string                            `json:"priorityClassName,omitempty"`
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" doc:"replaces airkube's default spread over nodes"`
	EnvFrom                   []corev1.EnvFromSource            `json:"envFrom,omitempty" doc:"env from Secrets and ConfigMaps"`
	Env                       []corev1.EnvVar                   `json:"env,omitempty" doc:"extra environment of the component's container"`
	// Volumes, InitContainers and Sidecars are a task group's pod options too: the same checks apply.
	Volumes        []string           `json:"volumes,omitempty" doc:"names of storage.volumes the component's pods mount (e.g. reference data the dag-processor reads while parsing); none unless listed"`
	InitContainers []corev1.Container `json:"initContainers,omitempty" doc:"run before the component's container (image: default airflow.image); restricted PSS, read-only root with /tmp writable; may mount dags, logs, config, python, tmp and the component's data-<volume>"`
	Sidecars       []corev1.Container `json:"sidecars,omitempty" doc:"run beside the component's container; restricted PSS; same mounts"`
}

// ComponentField is a component's spec and its field name under components, for messages.
type ComponentField struct {
	Field string
	*Component
}

// Fields are the components the spec tunes, in the spec's order; components left out are not listed.
func (c Components) Fields() []ComponentField {
	var out []ComponentField
	for _, f := range []ComponentField{{"apiServer", c.APIServer}, {"scheduler", c.Scheduler}, {"dagProcessor", c.DAGProcessor}, {"triggerer", c.Triggerer}} {
		if f.Component != nil {
			out = append(out, f)
		}
	}
	return out
}

// TaskGroup is where a set of tasks runs: its own image, executor and settings.
type TaskGroup struct {
	Name                          string                            `json:"name" doc:"DNS label; also the Celery queue name"`
	Executor                      string                            `json:"executor,omitempty" doc:"one of the release's executors; default the release's first"`
	Image                         string                            `json:"image,omitempty" doc:"default airflow.image"`
	Replicas                      *int32                            `json:"replicas,omitempty" doc:"Celery workers; default 1"`
	Concurrency                   *int32                            `json:"concurrency,omitempty" doc:"Celery worker concurrency; default: the task slots its memory limit holds (512Mi for the worker, 256Mi a slot), at most 16"`
	Autoscaling                   *Autoscaling                      `json:"autoscaling,omitempty"`
	Resources                     *corev1.ResourceRequirements      `json:"resources,omitempty"`
	NodeSelector                  map[string]string                 `json:"nodeSelector,omitempty"`
	Tolerations                   []corev1.Toleration               `json:"tolerations,omitempty"`
	Affinity                      *corev1.Affinity                  `json:"affinity,omitempty"`
	Env                           []corev1.EnvVar                   `json:"env,omitempty"`
	TerminationGracePeriodSeconds *int64                            `json:"terminationGracePeriodSeconds,omitempty" doc:"Celery workers finish running tasks within this; default 600"`
	ServiceAccount                *ServiceAccount                   `json:"serviceAccount,omitempty" doc:"a ServiceAccount of the group's own, with these annotations (its cloud identity), for its workers or task pods"`
	PodOperators                  *bool                             `json:"podOperators,omitempty" doc:"the group's tasks run pod operators (API token, kubeconfig, rights to run pods); default kubernetesAPI.podOperators"`
	Volumes                       []string                          `json:"volumes,omitempty" doc:"names of storage.volumes the group's workers and task pods mount (LocalExecutor and custom executor groups: the scheduler)"`
	PodAnnotations                map[string]string                 `json:"podAnnotations,omitempty" doc:"annotations of the pods (sidecar injectors, backup tools)"`
	PodLabels                     map[string]string                 `json:"podLabels,omitempty" doc:"extra labels of the pods; airkube's selector labels cannot be set"`
	PriorityClassName             string                            `json:"priorityClassName,omitempty"`
	TopologySpreadConstraints     []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" doc:"replaces airkube's default spread over nodes"`
	EnvFrom                       []corev1.EnvFromSource            `json:"envFrom,omitempty" doc:"env from Secrets and ConfigMaps"`
	SecurityContext               *GroupSecurity                    `json:"securityContext,omitempty" doc:"the group's own uid, gid, fsGroup and supplemental groups, for a legacy image; never root"`
	InitContainers                []corev1.Container                `json:"initContainers,omitempty" doc:"run before the group's worker or task container (e.g. warm a cache; image: default the group's); restricted PSS, read-only root with /tmp writable; may mount dags, logs, tmp and the group's data-<volume>"`
	Sidecars                      []corev1.Container                `json:"sidecars,omitempty" doc:"run beside the group's worker (Celery) or task container; restricted PSS; same mounts"`
	// Patch is an overlay's instruction for this item; "delete" removes it.
	Patch string `json:"$patch,omitempty" doc:"overlays only: delete removes the group"`
}

// RBAC grants rights beyond what airkube derives.
type RBAC struct {
	PodExec bool `json:"podExec,omitempty" doc:"the scheduler may exec into pods in the namespace (pods/exec), for custom executors that run tasks in existing pods"`
}

// ServiceAccount is a ServiceAccount's annotations: what cloud identity webhooks read.
type ServiceAccount struct {
	Annotations map[string]string `json:"annotations,omitempty"`
}

// GroupSecurity is a task group's identity on the NAS and in its image; still restricted PSS.
type GroupSecurity struct {
	RunAsUser          *int64  `json:"runAsUser,omitempty"`
	RunAsGroup         *int64  `json:"runAsGroup,omitempty"`
	FSGroup            *int64  `json:"fsGroup,omitempty"`
	SupplementalGroups []int64 `json:"supplementalGroups,omitempty"`
}

// Autoscaling scales a Celery group's workers with load.
type Autoscaling struct {
	MinReplicas                    *int32 `json:"minReplicas,omitempty" doc:"default 1; 0 lets KEDA scale an idle group away"`
	MaxReplicas                    int32  `json:"maxReplicas"`
	Metric                         string `json:"metric,omitempty" doc:"queue (KEDA, the group's queued and running tasks; default) or cpu (HorizontalPodAutoscaler)"`
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty" doc:"with metric cpu; default 80"`
}
