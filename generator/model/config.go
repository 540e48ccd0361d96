package model

import (
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

//go:embed python/db_uri.py
var dbURIScript string

//go:embed python/airkube.py.tmpl
var dagHelperTemplate string

// airflowCfg writes airflow.cfg: airkube's settings, then the user's extra keys (which
// validation has kept off airkube's). Sections and keys are sorted so output is stable.
func (r *release) airflowCfg() string {
	cfg := map[string]map[string]string{}
	set := func(section, key, value string) {
		if cfg[section] == nil {
			cfg[section] = map[string]string{}
		}
		cfg[section][key] = value
	}
	for _, d := range r.cfgDefaults() {
		set(d.section, d.key, d.value)
	}
	for section, kv := range r.Airflow.Config {
		for k, v := range kv {
			set(section, k, v)
		}
	}
	set("core", "executor", r.Executor)
	set("core", "dags_folder", r.dagsFolder())
	set("core", "load_examples", "False")
	set("core", "hostname_callable", "airflow.utils.net.get_host_ip_address")
	set("database", "sql_alchemy_conn_cmd", r.dbCommand("sqlalchemy"))
	set("logging", "base_log_folder", r.Storage.Logs.MountPath)
	switch {
	case r.simpleAuthPasswordsFile():
		set("core", "simple_auth_manager_passwords_file", PasswordsFile)
	case r.major == 3 && r.Auth.Manager == v1alpha1.AuthSimple && !r.Auth.InsecureEveryoneIsAdmin:
		// Without users the manager still opens its file, by default in AIRFLOW_HOME, on a read-only root.
		set("core", "simple_auth_manager_passwords_file", TmpDir+"/simple_auth_manager_passwords.json.generated")
	}
	if r.major == 2 {
		// Airflow 2's defaults put these under AIRFLOW_HOME/logs, on a read-only root when the log
		// volume is mounted elsewhere.
		set("scheduler", "child_process_log_directory", r.Storage.Logs.MountPath+"/scheduler")
		set("logging", "dag_processor_manager_log_location", r.Storage.Logs.MountPath+"/dag_processor_manager/dag_processor_manager.log")
	}
	if r.major == 2 && r.Auth.WebserverConfig == nil {
		// The 2.x webserver copies Airflow's default FAB config to this path when nothing is there; by
		// default that is AIRFLOW_HOME, on a read-only root. auth.webserverConfig's env replaces it.
		set("webserver", "config_file", TmpDir+"/webserver_config.py")
	}
	set("scheduler", "enable_health_check", map[bool]string{true: "True", false: "False"}[r.schedulerHealthServer()])
	if x := r.XCom.ObjectStorage; x != nil {
		set("core", "xcom_backend", "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend")
		set("common.io", "xcom_objectstorage_path", x.Path)
		set("common.io", "xcom_objectstorage_threshold", fmt.Sprint(*x.Threshold))
		if x.Compression != "" {
			set("common.io", "xcom_objectstorage_compression", x.Compression)
		}
	}
	if b := r.Airflow.SecretsBackend; b != nil {
		set("secrets", "backend", b.Class)
	}
	if rl := r.Storage.Logs.Remote; rl != nil {
		set("logging", "remote_logging", "True")
		set("logging", "remote_base_log_folder", rl.BaseLogFolder)
		if rl.ConnID != "" {
			set("logging", "remote_log_conn_id", rl.ConnID)
		}
	}
	if r.major == 2 && len(r.Auth.Users) > 0 && r.Airflow.Config["api"]["auth_backends"] == "" {
		// Scripts call the REST API with a user's password (basic auth); the UI keeps its session.
		set("api", "auth_backends", "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth,airflow.api.auth.backend.session")
	}
	if r.major == 3 && r.Auth.Manager == v1alpha1.AuthFAB {
		// Airflow 3's default is SimpleAuthManager. Every component reads it: `airflow db migrate`
		// migrates FAB's tables through it.
		set("core", "auth_manager", FABAuthManager)
	}
	if base := r.baseURL(); base != "" && r.major == 3 {
		set("api", "base_url", base)
	} else if base != "" {
		set("webserver", "base_url", base)
	}
	if r.major == 3 {
		set("core", "execution_api_server_url", r.executionAPIURL())
	} else if dp := r.Components.DAGProcessor; dp != nil && dp.Enabled != nil && *dp.Enabled {
		set("scheduler", "standalone_dag_processor", "True")
	}
	if r.executors.Celery {
		if d, err := time.ParseDuration(r.Broker.VisibilityTimeout); err == nil {
			set("celery_broker_transport_options", "visibility_timeout", fmt.Sprint(int64(d.Seconds())))
		}
		user := r.Airflow.Config["celery"]
		if user["result_backend"] == "" && user["result_backend_cmd"] == "" && user["result_backend_secret"] == "" {
			set("celery", "result_backend_cmd", r.dbCommand("celery"))
		}
	}
	r.metricsConfig(set)
	if r.executors.Kubernetes {
		set("kubernetes_executor", "namespace", r.Metadata.Namespace)
		// The executor reads config_file only when in_cluster is False (see kubeapi.go).
		set("kubernetes_executor", "in_cluster", "False")
		set("kubernetes_executor", "config_file", KubeConfigFile)
		if groups := r.kubernetesGroups(); len(groups) > 0 {
			set("kubernetes_executor", "pod_template_file", PodTemplatesDir+"/"+groups[0].Name+".yaml")
		}
		if r.KubernetesAPI.CABundle != nil {
			set("kubernetes_executor", "ssl_ca_cert", KubeCAFile)
		}
		if v := r.KubernetesAPI.VerifySSL; v != nil && !*v {
			set("kubernetes_executor", "verify_ssl", "False")
		}
	}
	var b strings.Builder
	b.WriteString("# airflow.cfg written by airkube for release " + r.Metadata.Name + "; change the spec, not this file.\n")
	for _, section := range sortedKeys(cfg) {
		fmt.Fprintf(&b, "\n[%s]\n", section)
		for _, k := range sortedKeys(cfg[section]) {
			fmt.Fprintf(&b, "%s = %s\n", k, iniValue(cfg[section][k]))
		}
	}
	return b.String()
}

// cfgDefault is an airflow.cfg setting airkube chooses unless the user's airflow.config sets the key.
type cfgDefault struct{ section, key, value string }

// cfgDefaults are airkube's choices where Airflow's defaults cost users time.
//
// Recovery: how fast a release gets a task going again after its worker or pod dies (README, "What
// a release survives"). Airflow's own defaults leave such a task "running" for 5 minutes and then
// wait 5 more before its next try, and give a task no retry at all. Measured on kind
// (tests/e2e/kind_faults_test.go), these start the next try about 2 minutes after a hard kill.
//
// New DAGs: Airflow looks for new DAG files (and fetches a git bundle) every 300 s, so a new DAG
// can take five minutes to appear. Every 30 s it appears within a minute, parsing included; a
// listing of the DAG folder or a git fetch every 30 s is cheap.
func (r *release) cfgDefaults() []cfgDefault {
	timeout := "task_instance_heartbeat_timeout"
	if r.major == 2 {
		timeout = "scheduler_zombie_task_threshold"
	}
	defaults := []cfgDefault{
		// A running task's supervisor heartbeats every 5 s and retries a failed one for 31 s, and stops
		// its task only after 3 failed heartbeats: 90 s declares a dead worker's task failed soon, yet
		// outlasts a database restart or api-server failover of up to a minute without failing live tasks.
		// (Airflow: 300.)
		{"scheduler", timeout, "90"},
		// A task lost with its worker is retried, 30 s later (Airflow: no retry, and 300 s between
		// tries). DAGs and tasks that set retries or retry_delay keep theirs.
		{"core", "default_task_retries", "2"},
		{"core", "default_task_retry_delay", "30"},
	}
	if r.major == 3 {
		defaults = append(defaults, cfgDefault{"dag_processor", "refresh_interval", "30"})
	} else {
		defaults = append(defaults, cfgDefault{"scheduler", "dag_dir_list_interval", "30"})
	}
	if r.major == 3 {
		// A 3.x task reaches the api-server for everything (its start, heartbeats, connections,
		// XComs, its end). Airflow's 5 tries at random waits from 1 s can all fail within 6 s, and on
		// kind they did while a single api-server restarted: a task failed. 10 tries at waits from
		// 2 s span at least 18 s and about 3 minutes on average, what a new api-server needs.
		defaults = append(defaults, cfgDefault{"workers", "execution_api_retries", "10"},
			cfgDefault{"workers", "execution_api_retry_wait_min", "2"})
	}
	return defaults
}

// UserDefaults are the airflow.cfg keys airkube writes only as defaults: a value in the spec's
// airflow.config replaces each, so none is managed (validate.Managed).
func UserDefaults() []string {
	keys := []string{
		"api.auth_backends",         // 2.x: basic auth for scripts, unless the user chose backends
		"celery.result_backend_cmd", // the metadata database, unless the user gave a result backend
	}
	for _, major := range []int{2, 3} {
		for _, d := range (&release{major: major}).cfgDefaults() {
			if k := d.section + "." + d.key; !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// iniValue escapes a value for Airflow's config parser: % starts an interpolation and
// continuation lines must be indented.
func iniValue(v string) string {
	v = strings.ReplaceAll(v, "%", "%%")
	return strings.ReplaceAll(v, "\n", "\n    ")
}

// dbCommand is the *_cmd that prints the database URI at run time, so the password
// stays in its Secret and any character in it works (it is URL-encoded there).
func (r *release) dbCommand(purpose string) string {
	d := r.Database
	args := []string{"python3", DBURIScript, purpose}
	if d.ConnectionSecret == nil {
		args = append(args, "--type", d.Type, "--host", d.Host, "--port", fmt.Sprint(d.Port), "--user", d.User, "--name", d.Name)
		if d.SSLMode != "" {
			args = append(args, "--sslmode", d.SSLMode)
		}
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes a word for Python's shlex.split, which Airflow uses on *_cmd.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c == '-' || c == '.' || c == '/' || c == '_' || c == ':' || c == '=' || c == '+' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// dagHelper renders the DAG authors' module: task_group(name) returns the operator
// arguments that send a task to that group.
func (r *release) dagHelper() string {
	var groups []string
	kubeQueue := ""
	if r.executors.CeleryKubernetes {
		kubeQueue = "kubernetes"
		if q := r.Airflow.Config["celery_kubernetes_executor"]["kubernetes_queue"]; q != "" {
			kubeQueue = q
		}
	}
	for _, g := range r.TaskGroups {
		e, _ := r.GroupExecutor(g)
		entry := fmt.Sprintf("    %q: {\"executor\": %q", g.Name, e.Name())
		switch g.Executor {
		case v1alpha1.CeleryExecutor:
			entry += fmt.Sprintf(", \"queue\": %q", g.Name)
		case v1alpha1.KubernetesExecutor:
			entry += fmt.Sprintf(", \"pod_template_file\": %q", PodTemplatesDir+"/"+g.Name+".yaml")
		}
		groups = append(groups, entry+"},")
	}
	multi := len(r.Executors()) > 1
	repl := strings.NewReplacer(
		"@@GROUPS@@", strings.Join(groups, "\n"),
		"@@DEFAULT_EXECUTOR@@", fmt.Sprintf("%q", r.Executors()[0].Name()),
		"@@MULTI@@", map[bool]string{true: "True", false: "False"}[multi],
		"@@KUBERNETES_QUEUE@@", fmt.Sprintf("%q", kubeQueue),
	)
	return repl.Replace(dagHelperTemplate)
}

func cpuMetric(target int32) []autoscalingv2.MetricSpec {
	return []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// schedulerHealthServer says whether the scheduler serves /health for its probes: on 3.x only (see
// the scheduler's probes in components).
func (r *release) schedulerHealthServer() bool {
	return r.major == 3
}
