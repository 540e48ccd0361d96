package importer

// fallback is what the report says of a value under a top-level key when no handler reported it:
// most keys are read by a handler (build.go), and only their leftovers fall back here.
type fallback struct {
	verdict Verdict
	why     string
}

const (
	restricted = "airkube's pods are restricted Pod Security Standard by construction (non-root, no privilege escalation, RuntimeDefault seccomp)"
	ownObjects = "airkube names, labels and annotates its objects itself"
	byHand     = "create these objects beside the release (kubectl apply, or your GitOps tool); airkube's chart makes only the release's own"
)

// topLevel is every top-level value of the official chart 1.15 to 1.22 (values.schema.json's
// properties). TestEveryChartValueHandled holds this list to the chart's schema, so a value the chart
// adds later cannot be passed over silently.
var topLevel = map[string]fallback{
	"fullnameOverride":             {NotNeeded, ownObjects + " (<release>-<component>); the chart's Secrets and claims are found by their old names for the move"},
	"nameOverride":                 {NotNeeded, ownObjects},
	"useStandardNaming":            {NotNeeded, ownObjects},
	"revisionHistoryLimit":         {NotNeeded, "airkube keeps Kubernetes' default history"},
	"uid":                          {Carried, "to airflow.uid"},
	"gid":                          {Carried, "to airflow.gid"},
	"airflowHome":                  {NotNeeded, "airkube's images keep AIRFLOW_HOME at /opt/airflow"},
	"defaultAirflowRepository":     {Carried, "to airflow.image"},
	"defaultAirflowTag":            {Carried, "to airflow.image"},
	"defaultAirflowDigest":         {Carried, "to airflow.image"},
	"airflowVersion":               {Carried, "to airflow.version"},
	"securityContext":              {NotNeeded, restricted + "; the Airflow uid and gid go to airflow.uid and airflow.gid"},
	"securityContexts":             {NotNeeded, restricted + "; the Airflow uid and gid go to airflow.uid and airflow.gid"},
	"containerLifecycleHooks":      {Unsupported, "airkube's containers stop as Airflow's components expect (warm shutdown within the grace period); it adds no lifecycle hooks"},
	"nodeSelector":                 {Carried, "to every component and task group"},
	"affinity":                     {Carried, "to every component and task group"},
	"tolerations":                  {Carried, "to every component and task group"},
	"topologySpreadConstraints":    {Carried, "to every component and task group"},
	"schedulerName":                {Unsupported, "airkube's pods use the cluster's default scheduler"},
	"labels":                       {Carried, "to airflow.labels"},
	"imagePullSecrets":             {Carried, "to airflow.imagePullSecrets"},
	"ingress":                      {NotNeeded, "airkube's Ingress is ui.ingress, for ui.baseURL"},
	"networkPolicies":              {NotNeeded, "airkube's NetworkPolicies are networkPolicy.enabled"},
	"airflowPodAnnotations":        {Carried, "to every component's and task group's podAnnotations"},
	"airflowConfigAnnotations":     {NotNeeded, ownObjects},
	"airflowLocalSettings":         {Unsupported, "airkube writes no airflow_local_settings.py; bake yours into the image (it is read from PYTHONPATH)"},
	"rbac":                         {NotNeeded, "airkube derives the release's Roles from the spec (executors, kubernetesAPI.podOperators, rbac.podExec)"},
	"executor":                     {Carried, "to executor"},
	"allowPodLaunching":            {Carried, "to kubernetesAPI.podOperators"},
	"allowJobLaunching":            {Unsupported, "airkube grants pods rights only (kubernetesAPI.podOperators); give Job rights with your own Role"},
	"images":                       {NotNeeded, "airkube builds no Flower or PgBouncer, and its migration Job uses airflow.image"},
	"env":                          {Carried, "to airflow.env"},
	"volumes":                      {Unsupported, "airkube mounts data volumes by name: put each in storage.volumes (nfs, csi or existingClaim) and list it in the groups' and components' volumes"},
	"volumeMounts":                 {Unsupported, "airkube mounts data volumes by name: put each in storage.volumes with its mountPath"},
	"secret":                       {Carried, "to airflow.env"},
	"enableBuiltInSecretEnvVars":   {NotNeeded, "airkube sets the environment it needs and no more"},
	"extraEnv":                     {Carried, "to airflow.env"},
	"extraEnvFrom":                 {Carried, "to every component's and task group's envFrom"},
	"priorityClasses":              {Unsupported, byHand + "; then name them in priorityClassName of components and groups"},
	"extraSecrets":                 {Action, byHand + "; airkube reads Secrets by name (connections, variables, env)"},
	"extraConfigMaps":              {Action, byHand},
	"data":                         {NotNeeded, "airkube reads the database from database and the broker from broker"},
	"fernetKey":                    {Action, "the key stays out of the spec; see the fernet key line"},
	"fernetKeySecretName":          {Carried, "to secrets.existingSecret"},
	"fernetKeySecretAnnotations":   {NotNeeded, ownObjects},
	"apiSecretKey":                 {Action, "the key stays out of the spec; see the fernet key line"},
	"apiSecretAnnotations":         {NotNeeded, ownObjects},
	"apiSecretKeySecretName":       {Carried, "to secrets.existingSecret"},
	"jwtSecret":                    {Action, "the key stays out of the spec; see the fernet key line"},
	"jwtSecretName":                {Carried, "to secrets.existingSecret"},
	"jwtSecretAnnotations":         {NotNeeded, ownObjects},
	"webserverSecretKey":           {Action, "the key stays out of the spec; see the fernet key line"},
	"webserverSecretAnnotations":   {NotNeeded, ownObjects},
	"webserverSecretKeySecretName": {Carried, "to secrets.existingSecret"},
	"kerberos":                     {Unsupported, "airkube has no Kerberos sidecar or keytab handling"},
	"workers":                      {NotNeeded, "airkube decides this for its task groups' workers"},
	"scheduler":                    {NotNeeded, "airkube decides this for the scheduler"},
	"triggerer":                    {NotNeeded, "airkube decides this for the triggerer"},
	"dagProcessor":                 {NotNeeded, "airkube decides this for the dag-processor"},
	"createUserJob":                {NotNeeded, "airkube creates the users of auth.users"},
	"migrateDatabaseJob":           {NotNeeded, "airkube runs `airflow db migrate` in its own Job, without Helm hooks, so helm --wait, Argo CD and Flux never deadlock on it"},
	"apiServer":                    {NotNeeded, "airkube decides this for the api-server"},
	"webserver":                    {NotNeeded, "airkube decides this for the webserver"},
	"flower":                       {Unsupported, "airkube runs no Flower; the UI shows every task's state"},
	"statsd":                       {NotNeeded, "airkube's exporter is metrics.statsd"},
	"pgbouncer":                    {Unsupported, "airkube connects to the database directly; put PgBouncer in front of the database yourself and point database.host at it"},
	"redis":                        {NotNeeded, "airkube's Redis is broker.redis"},
	"registry":                     {Carried, "to airflow.imagePullSecrets"},
	"elasticsearch":                {Unsupported, "airkube reads task logs from storage.logs (a shared volume, or remote object storage with storage.logs.remote)"},
	"opensearch":                   {Unsupported, "airkube reads task logs from storage.logs (a shared volume, or remote object storage with storage.logs.remote)"},
	"ports":                        {NotNeeded, "airkube's ports are fixed: Airflow's defaults"},
	"quotas":                       {Action, byHand + " (a ResourceQuota)"},
	"limits":                       {Action, byHand + " (a LimitRange)"},
	"cleanup":                      {NotNeeded, "airkube's KubernetesExecutor deletes each task's pod when it ends"},
	"databaseCleanup":              {Unsupported, "airkube runs no `airflow db clean` CronJob; run it as a DAG"},
	"postgresql":                   {NotNeeded, "airkube bundles no database"},
	"config":                       {Carried, "to airflow.config"},
	"multiNamespaceMode":           {Unsupported, "airkube's KubernetesExecutor runs task pods in the release's namespace only"},
	"podTemplate":                  {Action, "airkube writes the task pods' template from the task groups: carry its settings into taskGroups[kubernetes]"},
	"dags":                         {NotNeeded, "airkube reads DAGs from storage.dags"},
	"logs":                         {NotNeeded, "airkube writes logs to storage.logs"},
}
