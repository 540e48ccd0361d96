package model

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/validate"
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
	// year and only warns when it is used past an hour. The provider's kubeconfig clients read the
	// token once (see below), so a long-lived one, like the KubernetesExecutor's, keeps working.
	kubeTokenSeconds = 3607
)

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
// Both loaders accept a user's tokenFile, which the kubelet refreshes in the projected volume; but they
// read it once, when a client is made (unlike load_incluster_config, which rereads its token every
// minute): a client that outlives its token, such as the KubernetesExecutor's, made when the
// scheduler starts, keeps sending an expired one (test_clients_follow_token_rotation, a strict xfail).

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
	if r.executors[validate.Kubernetes] || r.RBAC.PodExec {
		return true
	}
	for _, g := range r.TaskGroups {
		if e, _ := r.GroupExecutor(g); (g.Executor == validate.Local || e.Custom()) && r.groupPodOperators(g) {
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
		"clusters":        []any{map[string]any{"name": "kubernetes", "cluster": cluster}},
		"users":           []any{map[string]any{"name": "pod", "user": map[string]any{"tokenFile": KubeTokenFile}}},
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
