package model

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// taskEnv is what pods that parse DAGs or run tasks read besides the Airflow env: the connections and
// variables from their Secrets. The api-server does not get them (the UI lists neither env
// connections nor env variables), so a changed reference restarts only the pods that read it.
func (r *release) taskEnv() []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, c := range r.Airflow.Connections {
		env = append(env, secretEnv("AIRFLOW_CONN_"+strings.ToUpper(c.ID), c.Secret.Name, c.Secret.Key))
	}
	for _, v := range r.Airflow.Variables {
		env = append(env, secretEnv("AIRFLOW_VAR_"+strings.ToUpper(v.Key), v.Secret.Name, v.Secret.Key))
	}
	return env
}

// withTaskEnv adds the connections and variables to every workload that parses DAGs or runs tasks.
func (r *release) withTaskEnv(workloads []Workload) {
	env := r.taskEnv()
	if len(env) == 0 {
		return
	}
	for i := range workloads {
		w := &workloads[i]
		if w.Airflow && w.Component != "api-server" && w.Component != "webserver" {
			w.Env = append(append([]corev1.EnvVar{}, w.Env...), env...) // w.Env may be the spec's slice
		}
	}
}
