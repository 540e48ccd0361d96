package model

import (
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// Where every Kubernetes API client of the release finds its trust and identity: one projected
// volume with airkube's kubeconfig, the CA bundle and the pod's own short-lived ServiceAccount token.
const (
	KubeDir        = "/opt/airkube/kube"
	KubeConfigFile = KubeDir + "/config"
	KubeCAFile     = KubeDir + "/ca.crt"
	KubeTokenFile  = KubeDir + "/token"
	// DefaultKubeServer is the API server as every pod reaches it.
	DefaultKubeServer = "https://kubernetes.default.svc"
	// kubeTokenSeconds is the kubelet's own for automounted tokens, on purpose: for exactly 3607 s the
	// API server (--service-account-extend-token-expiration, on by default) issues a token valid for a
	// year and only warns when it is used past an hour. The provider's clients follow the token file
	// through the kubeconfig's exec credential (see kubeCredential); a client that still keeps its
	// first token (a kubernetes_asyncio client made once, below) keeps working too.
	kubeTokenSeconds = 3607
	// kubeCredentialSeconds is how long the exec credential says its token is good for: under the
	// 5 minutes before expiry at which the Python clients (kubernetes, kubernetes_asyncio) count a
	// credential as expired, so they run the command again before every request; client-go (kubectl
	// in DAG code) keeps it this long. The kubelet replaces the token at 80% of kubeTokenSeconds,
	// 12 minutes before that token's own end.
	kubeCredentialSeconds = 240
)

// kubeCredential is the exec credential plugin (client.authentication.k8s.io/v1) of the kubeconfig's
// user: /bin/sh prints the mounted token file as an ExecCredential, with cat and date, which every
// Airflow image has (the official one is Debian). Unlike a user's tokenFile, which both Python
// loaders read once, when a client is made, the plugin is run again when its credential expires.
const kubeCredential = `t=$(cat "$TOKEN_FILE") || exit; e=$(date -u -d "@$(($(date +%s) + $VALID_SECONDS))" +%Y-%m-%dT%H:%M:%SZ) || exit; ` +
	`printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$t" "$e"`

// Which client reads which setting, found with the real apache-airflow-providers-cncf-kubernetes 10.25.0
// on Airflow 2.11.2 and 3.3.2 (tests/airflow/test_pod_operator.py runs each path against an API
// server behind a private CA):
//   - The KubernetesExecutor (kube_client.get_kube_client) reads [kubernetes_executor] in_cluster; only
//     when it is False does it read config_file (load_kube_config). ssl_ca_cert, when set, replaces
//     the CA of either. airkube sets in_cluster = False, config_file = the kubeconfig, ssl_ca_cert =
//     the bundle.
//   - KubernetesPodOperator and KubernetesHook, synchronous (hooks/kubernetes.py get_conn): the
//     kubernetes_default connection's extra kube_config_path when it has one; without it they try
//     load_incluster_config, which fails in airkube's pods (automountServiceAccountToken: false, so
//     no token at /var/run/secrets/kubernetes.io/serviceaccount), then load_kube_config, which reads
//     KUBECONFIG.
//   - The deferrable operator: before deferring, the worker reads the file KUBECONFIG names
//     (operators/pod.py convert_config_file_to_dict) and hands it to the trigger as config_dict,
//     together with the connection's extras; the triggerer's AsyncKubernetesHook (_load_config)
//     loads that dict, and fails ("kube_config_path, kube_config, in_cluster, and config_dict are
//     mutually exclusive") when the extras also name kube_config_path. So the connection carries only
//     the namespace and KUBECONFIG is the one pointer every path follows. The dict names the CA and
//     the token by path: the triggerer reads its own mounted files.
//   - The namespace of the operator's pods (no namespace= in the DAG): the connection's extra
//     namespace; the kubeconfig context's namespace is not read.
//   - DAG code using the kubernetes client directly (config.load_kube_config()) reads KUBECONFIG.
//
// Both loaders also accept a user's tokenFile, but read it once, when a client is made (unlike
// load_incluster_config, which rereads its token every minute): a client that outlives its token,
// such as the KubernetesExecutor's, made when the scheduler starts, kept sending the one the kubelet
// had replaced. So the user is an exec credential (kubeCredential) that prints the token file, and
// every path runs it again (test_clients_follow_token_rotation rotates the file under each client):
//   - kubernetes (the sync hook, the KubernetesExecutor, DAG code): load_kube_config sets the
//     configuration's refresh_api_key_hook, which every request calls; it runs the plugin again once
//     the credential is within 5 minutes of its expirationTimestamp, so here before every request
//     (sh, cat and date: a few milliseconds). Configuration.get_default_copy, which the hook and the
//     pod operator's clients go through, deep-copies the configuration and keeps the hook.
//   - kubernetes_asyncio (the trigger) sets no such hook; but the provider's AsyncKubernetesHook
//     loads the kubeconfig (the hand-off's dict) again at every get_conn when its user is exec (it
//     caches it otherwise), so each of a trigger's calls runs the plugin, in the triggerer.
//   - Not followed: [kubernetes_executor] async_pod_creation (off by default, airkube leaves it off)
//     creates pods with one kubernetes_asyncio client that keeps its first token; kubeTokenSeconds
//     keeps that one working.

// kubeAPI says whether the release's pods call the Kubernetes API: the KubernetesExecutor, or tasks
// that run pod operators.
func (r *release) kubeAPI() bool {
	return r.schedulerAPI() || r.anyPodOperators()
}

// groupPodOperators says whether a group's tasks run pod operators: its own flag, else the release's.
func (r *release) groupPodOperators(g v1alpha1.TaskGroup) bool {
	if g.PodOperators != nil {
		return *g.PodOperators
	}
	return r.KubernetesAPI.PodOperators
}

// anyPodOperators: some group runs pod operators, so the triggerer (deferrable ones) needs the API.
func (r *release) anyPodOperators() bool {
	for _, g := range r.TaskGroups {
		if r.groupPodOperators(g) {
			return true
		}
	}
	return false
}

// schedulerAPI says whether the scheduler calls the API: the KubernetesExecutor, or pod operators in a
// group whose tasks run inside the scheduler (LocalExecutor or a custom executor), or rbac.podExec.
func (r *release) schedulerAPI() bool {
	if r.executors.Kubernetes || r.RBAC.PodExec {
		return true
	}
	for _, g := range r.TaskGroups {
		if r.RunsInScheduler(g) && r.groupPodOperators(g) {
			return true
		}
	}
	return false
}

// groupAccount is the ServiceAccount a group's workers or task pods run as: the group's own when it
// has annotations (its cloud identity), else the pod operators' when it runs them, else the release's.
func (r *release) groupAccount(g v1alpha1.TaskGroup) string {
	switch {
	case g.ServiceAccount != nil:
		return r.name("group-" + g.Name)
	case r.groupPodOperators(g):
		return r.podOperatorAccount()
	}
	return r.name("airflow")
}

// accountAnnotations is a pod annotation with a hash of a group's ServiceAccount annotations: identity
// webhooks act when a pod is created, so a changed identity must restart the group's pods (only).
func accountAnnotations(g v1alpha1.TaskGroup) map[string]string {
	if g.ServiceAccount == nil || len(g.ServiceAccount.Annotations) == 0 {
		return nil
	}
	var kv []string
	for _, k := range sortedKeys(g.ServiceAccount.Annotations) {
		kv = append(kv, k+"="+g.ServiceAccount.Annotations[k])
	}
	return map[string]string{"airkube.dev/service-account": hash8(kv...)}
}

// kubeconfig is the one kubeconfig every client uses: the server, the CA bundle (or, only with the
// explicit opt-in, no TLS checks) and the pod's projected ServiceAccount token.
func (r *release) kubeconfig() string {
	k := r.KubernetesAPI
	server := k.Server
	if server == "" {
		server = DefaultKubeServer
	}
	cluster := map[string]any{"server": server, "certificate-authority": KubeCAFile}
	if k.VerifySSL != nil && !*k.VerifySSL {
		cluster = map[string]any{"server": server, "insecure-skip-tls-verify": true}
	}
	cfg := map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"clusters": []any{map[string]any{"name": "kubernetes", "cluster": cluster}},
		"users": []any{map[string]any{"name": "pod", "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/sh", "args": []any{"-c", kubeCredential},
			"env": []any{map[string]any{"name": "TOKEN_FILE", "value": KubeTokenFile},
				map[string]any{"name": "VALID_SECONDS", "value": strconv.Itoa(kubeCredentialSeconds)}},
			"interactiveMode": "Never"}}}},
		"contexts":        []any{map[string]any{"name": "airkube", "context": map[string]any{"cluster": "kubernetes", "user": "pod", "namespace": r.Metadata.Namespace}}},
		"current-context": "airkube",
	}
	out, _ := yaml.Marshal(cfg)
	return "# written by airkube: the Kubernetes API as every Airflow client of release " + r.Metadata.Name + " reaches it\n" + string(out)
}

// kubeVolume is the projected volume at KubeDir: kubeconfig, CA bundle (the spec's, else the cluster's
// own kube-root-ca.crt) and a token of the pod's ServiceAccount that the kubelet keeps fresh.
func (r *release) kubeVolume() corev1.Volume {
	sources := []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{
		LocalObjectReference: corev1.LocalObjectReference{Name: r.name("kubeconfig")},
		Items:                []corev1.KeyToPath{{Key: "config", Path: "config"}}}}}
	k := r.KubernetesAPI
	if k.VerifySSL == nil || *k.VerifySSL {
		ca := corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
			Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}}
		if b := k.CABundle; b != nil && b.ConfigMap != "" {
			ca.ConfigMap.Name, ca.ConfigMap.Items[0].Key = b.ConfigMap, b.Key
		} else if b != nil {
			ca = corev1.VolumeProjection{Secret: &corev1.SecretProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: b.Secret},
				Items:                []corev1.KeyToPath{{Key: b.Key, Path: "ca.crt"}}}}
		}
		sources = append(sources, ca)
	}
	sources = append(sources, corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
		Path: "token", ExpirationSeconds: ptr(int64(kubeTokenSeconds))}})
	return corev1.Volume{Name: "kube-api", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}}
}

// kubeEnv points pod operators (sync and deferrable) and DAG code at the kubeconfig with KUBECONFIG,
// and gives the kubernetes_default connection the release's namespace only: with a kube_config_path
// there, every deferrable pod operator's trigger fails at its first poll (see above).
func (r *release) kubeEnv() []corev1.EnvVar {
	conn, _ := json.Marshal(map[string]any{"conn_type": "kubernetes",
		"extra": map[string]any{"namespace": r.Metadata.Namespace}})
	return []corev1.EnvVar{{Name: "KUBECONFIG", Value: KubeConfigFile}, {Name: "AIRFLOW_CONN_KUBERNETES_DEFAULT", Value: string(conn)}}
}

// withKubeAPI gives a workload the kube-api volume, the client env and a ServiceAccount with rights;
// a change to the kubeconfig rolls it.
func (r *release) withKubeAPI(w *Workload, account string) {
	w.Volumes = append(w.Volumes, r.kubeVolume())
	w.VolumeMounts = append(w.VolumeMounts, corev1.VolumeMount{Name: "kube-api", MountPath: KubeDir, ReadOnly: true})
	w.Env = append(w.Env, r.kubeEnv()...)
	w.ServiceAccount = account
	w.Checksums = append(w.Checksums, r.name("kubeconfig"))
}

// podOperatorAccount runs the pods whose tasks start pods of their own (pod operators).
func (r *release) podOperatorAccount() string { return r.name("pod-operator") }

// podRules are what KubernetesPodOperator does in the release's namespace: start, watch, read the
// logs of and delete its pods, and read their events.
func podRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create", "delete", "get", "list", "patch", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch"}},
	}
}

// kubeConfigMap is the kubeconfig's ConfigMap name and data, or "" when nothing calls the API.
func (r *release) kubeConfigMap() (string, map[string]string) {
	if !r.kubeAPI() {
		return "", nil
	}
	return r.name("kubeconfig"), map[string]string{"config": r.kubeconfig()}
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
