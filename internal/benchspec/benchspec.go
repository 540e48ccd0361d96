// Package benchspec is the spec the render benchmarks measure: BenchmarkRender and make bench's CLI
// figure render the same release.
package benchspec

import (
	"fmt"
	"strings"
)

// Groups is a Celery+Kubernetes release with n task groups, alternating executors.
func Groups(n int) []byte {
	var b strings.Builder
	b.WriteString(`apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: bench, namespace: airflow}
executor: CeleryExecutor,KubernetesExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
broker: {redis: {}}
storage:
  dags: {nfs: {server: nas, path: /dags}}
  logs: {nfs: {server: nas, path: /logs}}
taskGroups:
`)
	for i := 0; i < n; i++ {
		executor := "CeleryExecutor"
		if i%2 == 1 {
			executor = "KubernetesExecutor"
		}
		fmt.Fprintf(&b, "  - {name: g%d, executor: %s, image: registry.example.com/g%d:1}\n", i, executor, i)
	}
	return []byte(b.String())
}
