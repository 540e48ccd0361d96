package model

import (
	"strings"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// taskEnv is what pods that parse DAGs or run tasks read besides the Airflow env: the connections and
// variables from their Secrets. The api-server does not get them (the UI lists neither env
// connections nor env variables), so a changed reference restarts only the pods that read it.
func (r *release) taskEnv() []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, c := range r.Airflow.Connections {
		env = append(env, connectionEnv(c))
	}
	for _, v := range r.Airflow.Variables {
		env = append(env, secretEnv("AIRFLOW_VAR_"+strings.ToUpper(v.Key), v.Secret.Name, v.Secret.Key))
	}
	return env
}

// connectionEnv is a connection from its Secret, as Airflow reads it from the environment.
func connectionEnv(c v1alpha1.Connection) corev1.EnvVar {
	return secretEnv("AIRFLOW_CONN_"+strings.ToUpper(c.ID), c.Secret.Name, c.Secret.Key)
}

// withTaskEnv adds the connections and variables to every workload that parses DAGs or runs tasks,
// and to the api-server the connection of the log store it reads.
func (r *release) withTaskEnv(workloads []Workload) {
	env := r.taskEnv()
	// The api-server reads the remote log store's connection too: it reads finished tasks' logs there
	// once their workers are gone. (An XCom kept in object storage it shows as its path: Airflow
	// resolves those on workers only.)
	var apiEnv []corev1.EnvVar
	if rl := r.Storage.Logs.Remote; rl != nil && rl.ConnID != "" {
		for _, c := range r.Airflow.Connections {
			if c.ID == rl.ConnID {
				apiEnv = append(apiEnv, connectionEnv(c))
			}
		}
	}
	for i := range workloads {
		w := &workloads[i]
		add := env
		if w.Component == "api-server" || w.Component == "webserver" {
			add = apiEnv
		}
		if w.Airflow && len(add) > 0 {
			w.Env = append(append([]corev1.EnvVar{}, w.Env...), add...) // w.Env may be the spec's slice
		}
	}
}
