package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/airkube/airkube/generator/airflowcfg"
)

// Managed lists the airflow.cfg keys airkube sets itself, with the spec field that
// decides each. Setting one in airflow.config would fight the chart, so it is an error.
var Managed = map[string]string{
	"core.executor":                                      "executor",
	"core.dags_folder":                                   "storage.dags.mountPath",
	"core.load_examples":                                 "airkube (a release never loads Airflow's example DAGs)",
	"core.fernet_key":                                    "secrets.existingSecret",
	"core.execution_api_server_url":                      "the api-server Service (derived)",
	"core.hostname_callable":                             "airkube (pods are reached by IP)",
	"database.sql_alchemy_conn":                          "database",
	"core.sql_alchemy_conn":                              "database",
	"logging.base_log_folder":                            "storage.logs.mountPath",
	"logging.remote_logging":                             "storage.logs.remote",
	"logging.remote_base_log_folder":                     "storage.logs.remote.baseLogFolder",
	"logging.remote_log_conn_id":                         "storage.logs.remote.connId",
	"celery.broker_url":                                  "broker",
	"celery_broker_transport_options.visibility_timeout": "broker.visibilityTimeout",
	"kubernetes_executor.namespace":                      "metadata.namespace",
	"kubernetes_executor.pod_template_file":              "taskGroups",
	"kubernetes_executor.in_cluster":                     "kubernetesAPI (airkube's kubeconfig)",
	"kubernetes_executor.ssl_ca_cert":                    "kubernetesAPI.caBundle",
	"kubernetes_executor.config_file":                    "kubernetesAPI (airkube's kubeconfig)",
	"kubernetes_executor.verify_ssl":                     "kubernetesAPI.verifySSL",
	"api.secret_key":                                     "secrets.existingSecret",
	"webserver.secret_key":                               "secrets.existingSecret",
	"api_auth.jwt_secret":                                "secrets.existingSecret",
	"scheduler.standalone_dag_processor":                 "components.dagProcessor.enabled",
	"scheduler.enable_health_check":                      "airkube (the scheduler's probes use it)",
	"core.simple_auth_manager_users":                     "auth.users",
	"core.simple_auth_manager_passwords_file":            "auth.users (built from their Secrets at start)",
	"core.simple_auth_manager_all_admins":                "auth.insecureEveryoneIsAdmin",
	"webserver.config_file":                              "auth.webserverConfig",
	"scheduler.child_process_log_directory":              "storage.logs.mountPath (2.x: under the log volume, the root being read-only)",
	"logging.dag_processor_manager_log_location":         "storage.logs.mountPath (2.x: under the log volume, the root being read-only)",
	"fab.config_file":                                    "auth.webserverConfig",
	"core.auth_manager":                                  "auth.manager",
	"api.base_url":                                       "ui.baseURL",
	"secrets.backend":                                    "airflow.secretsBackend.class",
	"core.xcom_backend":                                  "xcom.objectStorage",
	"common.io.xcom_objectstorage_path":                  "xcom.objectStorage.path",
	"common.io.xcom_objectstorage_threshold":             "xcom.objectStorage.threshold",
	"common.io.xcom_objectstorage_compression":           "xcom.objectStorage.compression",
	"secrets.backend_kwargs":                             "airflow.secretsBackend.kwargsSecret",
	"webserver.base_url":                                 "ui.baseURL",
}

// airflowConfig checks the user's airflow.cfg keys; managed are the keys airkube sets for this release.
func (c *checker) airflowConfig(cfg map[string]map[string]string, version string, managed map[string]string) {
	keys, err := airflowcfg.ForVersion(version)
	if err != nil {
		if len(cfg) > 0 {
			c.warnf("airflow.config", "not checked: %v", err)
		}
		return
	}
	for _, section := range sortedMapKeys(cfg) {
		for _, key := range sortedMapKeys(cfg[section]) {
			path := fmt.Sprintf("airflow.config.%s.%s", section, key)
			full := strings.ToLower(section + "." + key)
			if field, ok := ManagedKey(managed, full); ok {
				c.errorf(path, "airkube sets this from %s; set that instead", field)
				continue
			}
			switch verdict, repl := keys.Check(full); verdict {
			case airflowcfg.Deprecated:
				c.warnf(path, "deprecated in Airflow %s; use %s", keys.Line, repl)
			case airflowcfg.Removed:
				if repl == "" {
					c.errorf(path, "removed in Airflow 3; drop it")
				} else {
					c.errorf(path, "renamed in Airflow 3; use %s", repl)
				}
			case airflowcfg.Unknown:
				// The closest key may be one airkube sets: say so, or the advice leads to an error.
				if field, ok := managed[repl]; ok {
					repl += fmt.Sprintf(", which airkube sets from %s", field)
				}
				c.warnf(path, "not a key Airflow %s reads (it would be ignored); closest valid key: %s", keys.Line, repl)
			}
		}
	}
}

// ManagedKey finds the managed key a user's key sets: itself, or the key its _cmd or _secret form
// sets. A key whose own name ends in _secret (api_auth.jwt_secret) is matched as written first.
func ManagedKey(managed map[string]string, key string) (string, bool) {
	for _, k := range []string{key, strings.TrimSuffix(key, "_cmd"), strings.TrimSuffix(key, "_secret")} {
		if field, ok := managed[k]; ok {
			return field, true
		}
	}
	return "", false
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
