package model

import (
	_ "embed"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/airkube/airkube/generator/airflowcfg"
)

// The StatsD exporter's ports and files.
const (
	StatsDPort        = 9125
	StatsDMetricsPort = 9102
	StatsDPrefix      = "airflow"
	StatsDConfigDir   = "/opt/airkube/statsd"
	StatsDMappingFile = "mappings.yml"
	// StatsDUID is the exporter image's own user (nobody).
	StatsDUID = int64(65534)
	// statsdComponent is the exporter's component label.
	statsdComponent = "statsd"
)

//go:embed statsd/mappings.yml
var statsdMappings string

// ServiceMonitor asks the Prometheus Operator to scrape the exporter's Service.
type ServiceMonitor struct {
	Name string `json:"name"`
	// Component is the exporter's component label: the monitor selects the Service by it.
	Component string `json:"component"`
	Port      string `json:"port"`
	Path      string `json:"path"`
}

// metrics adds the StatsD exporter (a Deployment and Service), its mapping ConfigMap and, when
// asked, a ServiceMonitor. Airflow's side is metricsConfig, in every pod's airflow.cfg.
func (r *release) metrics(v *Values) {
	m := r.Metrics
	if m == nil {
		return
	}
	name := r.name("statsd")
	v.ConfigMaps[name] = map[string]string{StatsDMappingFile: r.statsdMappings()}
	uid := StatsDUID
	sc := restrictedContainer()
	w := Workload{
		Name: name, Component: statsdComponent, Image: m.StatsD.Image, Replicas: ptr(int32(1)),
		// TCP is off: Airflow sends UDP only.
		Args: []string{"--statsd.mapping-config=" + StatsDConfigDir + "/" + StatsDMappingFile,
			fmt.Sprintf("--statsd.listen-udp=:%d", StatsDPort), "--statsd.listen-tcp=",
			fmt.Sprintf("--web.listen-address=:%d", StatsDMetricsPort)},
		Resources: resources("50m", "64Mi", "256Mi"),
		Ports: []corev1.ContainerPort{{Name: "statsd", ContainerPort: StatsDPort, Protocol: corev1.ProtocolUDP},
			{Name: "metrics", ContainerPort: StatsDMetricsPort}},
		LivenessProbe:  httpProbe("/-/healthy", StatsDMetricsPort, 15, 3),
		ReadinessProbe: httpProbe("/-/ready", StatsDMetricsPort, 10, 3),
		ServiceAccount: r.name("airflow"),
		Volumes: []corev1.Volume{{Name: "mappings", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}},
		VolumeMounts: []corev1.VolumeMount{{Name: "mappings", MountPath: StatsDConfigDir, ReadOnly: true}},
		// A changed mapping restarts the exporter (it would need a SIGHUP otherwise).
		Checksums: []string{name},
		Service: &Service{Name: name, Ports: []corev1.ServicePort{
			{Name: "statsd", Port: StatsDPort, TargetPort: intstr.FromString("statsd"), Protocol: corev1.ProtocolUDP},
			{Name: "metrics", Port: StatsDMetricsPort, TargetPort: intstr.FromString("metrics")}}},
		PodSecurityContext: &corev1.PodSecurityContext{RunAsUser: &uid, RunAsGroup: &uid, RunAsNonRoot: ptr(true),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		SecurityContext: &sc,
	}
	if m.StatsD.Resources != nil {
		w.Resources = *m.StatsD.Resources
	}
	v.Workloads = append(v.Workloads, w)
	if m.ServiceMonitor {
		v.ServiceMonitor = &ServiceMonitor{Name: name, Component: w.Component, Port: "metrics", Path: "/metrics"}
	}
}

// metricsScrapers is the exporter's NetworkPolicy rule beside the release's own pods (which send it
// StatsD): Prometheus runs in a namespace airkube cannot know, so the metrics port is open to every
// namespace. The StatsD port is not: only the release sends metrics.
func metricsScrapers() networkingv1.NetworkPolicyIngressRule {
	return networkingv1.NetworkPolicyIngressRule{
		From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}},
		Ports: policyPorts([]corev1.ContainerPort{{ContainerPort: StatsDMetricsPort, Protocol: corev1.ProtocolTCP}}),
	}
}

// statsdHost is the exporter Service's name in the cluster's DNS.
func (r *release) statsdHost() string {
	return r.name("statsd") + "." + r.Metadata.Namespace
}

// metricsConfig sends every component's and task's metrics to the exporter as plain StatsD, each key
// where the release's version reads it (validate.MetricsManaged keeps users off them).
func (r *release) metricsConfig(set func(section, key, value string)) {
	if r.Metrics == nil {
		return
	}
	keys, err := airflowcfg.ForVersion(r.Airflow.Version)
	for key, value := range map[string]string{
		"statsd_on":               "True",
		"statsd_host":             r.statsdHost(),
		"statsd_port":             fmt.Sprint(StatsDPort),
		"statsd_prefix":           StatsDPrefix,
		"statsd_datadog_enabled":  "False",
		"statsd_influxdb_enabled": "False",
		// 3.2 and later: the names that carry DAG and task ids in plain StatsD, which the mapping reads.
		"legacy_names_on": "True",
		// 2.x: timers in milliseconds, as StatsD expects (some were sent in seconds); also silences
		// Airflow's deprecation warning.
		"timer_unit_consistency": "True",
	} {
		if err == nil && keys.Has("metrics."+key) {
			set("metrics", key, value)
		}
	}
}

// statsdMappings is the exporter's mapping with the rule for executor metrics that arrive without
// the executor's name: Airflow sends those, and only those, where the release runs one executor and
// the version has no legacy names (2.x, 3.0, 3.1). Elsewhere they duplicate named ones and go. The
// label is what Airflow names an executor in the others: its class's name.
func (r *release) statsdMappings() string {
	rule := "- {match: airflow.executor.*, name: dropped, action: drop}"
	executors := r.Executors()
	keys, err := airflowcfg.ForVersion(r.Airflow.Version)
	if len(executors) == 1 && err == nil && !keys.Has("metrics.legacy_names_on") {
		class := executors[0].Entry
		if e := executors[0]; e.Custom() {
			class = e.Path[strings.LastIndex(e.Path, ".")+1:]
		}
		rule = fmt.Sprintf("- match: airflow.executor.*\n  name: airflow_executor_${1}\n  labels: {executor: %s}", class)
	}
	rule = strings.ReplaceAll(rule, "\n", "\n  ")
	return strings.Replace(statsdMappings, "# @@EXECUTOR_WITHOUT_NAME@@", rule, 1)
}
