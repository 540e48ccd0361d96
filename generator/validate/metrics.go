package validate

import (
	"strings"

	"github.com/airkube/airkube/generator/airflowcfg"
	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

// MetricsManaged lists the [metrics] keys airkube sets when the spec has metrics, with the reason.
// A version gets only the keys it reads (timer_unit_consistency is 2.x's, legacy_names_on 3.2's
// and later). Without metrics they are the user's: a release may send StatsD to its own agent.
var MetricsManaged = map[string]string{
	"metrics.statsd_on":     "metrics",
	"metrics.statsd_host":   "metrics (the exporter's Service)",
	"metrics.statsd_port":   "metrics (the exporter's Service)",
	"metrics.statsd_prefix": "metrics (the exporter's mapping reads airflow.*)",
	// The mapping reads plain StatsD names: tags (DogStatsD, InfluxDB) would add labels it does not
	// expect, and legacy names are the ones that carry the DAG and task ids in plain StatsD.
	"metrics.statsd_datadog_enabled":  "metrics (the exporter's mapping reads plain StatsD names)",
	"metrics.statsd_influxdb_enabled": "metrics (the exporter's mapping reads plain StatsD names)",
	"metrics.legacy_names_on":         "metrics (the exporter's mapping reads the names that carry DAG and task ids)",
	// Without it, Airflow 2 sends some timers in seconds where StatsD expects milliseconds.
	"metrics.timer_unit_consistency": "metrics (timers in milliseconds, as StatsD expects)",
}

// DAGBundleManaged lists the keys airkube sets when the spec has storage.dags.git. Without it they
// are the user's: a release may name its own bundles in airflow.config.
var DAGBundleManaged = map[string]string{
	"dag_processor.dag_bundle_config_list":  "storage.dags.git",
	"dag_processor.dag_bundle_storage_path": "storage.dags.git (each pod clones into an emptyDir of its own)",
}

// ManagedKeys is Managed plus, when the release has metrics, the [metrics] keys its version reads,
// and, when its DAGs come from a git bundle, the bundle's keys.
func ManagedKeys(r *v1alpha1.AirflowRelease) map[string]string {
	if r.Metrics == nil && r.Storage.DAGs.Git == nil {
		return Managed
	}
	out := make(map[string]string, len(Managed)+len(MetricsManaged)+len(DAGBundleManaged))
	for k, v := range Managed {
		out[k] = v
	}
	if r.Metrics != nil {
		keys, err := airflowcfg.ForVersion(r.Airflow.Version)
		for k, v := range MetricsManaged {
			if err == nil && keys.Has(k) {
				out[k] = v
			}
		}
	}
	if r.Storage.DAGs.Git != nil {
		for k, v := range DAGBundleManaged {
			out[k] = v
		}
	}
	return out
}

func (c *checker) metrics(r *v1alpha1.AirflowRelease) {
	m := r.Metrics
	if m == nil {
		return
	}
	if m.StatsD == nil {
		c.errorf("metrics.statsd", "required: statsd: {} runs the StatsD exporter that serves Airflow's metrics to Prometheus")
		return
	}
	c.image("metrics.statsd.image", m.StatsD.Image)
	if strings.HasPrefix(r.Airflow.Version, "3.0.") {
		c.warnf("metrics", "Airflow %s sends no task metrics (ti.start, ti.finish, task durations); 3.1 and later do", r.Airflow.Version)
	}
}
