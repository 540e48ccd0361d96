package model

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestStoreConnectionsReachTheAPIServer: the api-server reads finished tasks' logs from the remote log
// store, so it gets that connection, and no other: it shows an XCom kept in object storage as its path
// (Airflow 3.3 resolves those on workers only), and other connections are read where DAGs are parsed
// and tasks run.
func TestStoreConnectionsReachTheAPIServer(t *testing.T) {
	for _, version := range []string{"2.11.2", "3.3.2"} {
		t.Run(version, func(t *testing.T) {
			xcom := `
xcom: {objectStorage: {path: "s3://xcom_store@weather-xcom/xcom"}}
`
			if version[0] == '2' {
				xcom = "" // 3.x only
			}
			v := buildSpec(t, `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: obs, namespace: weather}
executor: CeleryExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
broker: {redis: {}}
airflow:
  version: "`+version+`"
  connections:
    - {id: log_store, secret: {name: stores, key: logs}}
    - {id: xcom_store, secret: {name: stores, key: xcom}}
    - {id: grib_archive, secret: {name: weather, key: grib}}
storage:
  logs: {remote: {baseLogFolder: "s3://weather-logs/airflow", connId: log_store}}`+xcom)
			want := map[string][]string{
				"api-server": {"AIRFLOW_CONN_LOG_STORE"},
				"webserver":  {"AIRFLOW_CONN_LOG_STORE"},
				"scheduler":  {"AIRFLOW_CONN_GRIB_ARCHIVE", "AIRFLOW_CONN_LOG_STORE", "AIRFLOW_CONN_XCOM_STORE"},
				"worker":     {"AIRFLOW_CONN_GRIB_ARCHIVE", "AIRFLOW_CONN_LOG_STORE", "AIRFLOW_CONN_XCOM_STORE"},
			}
			seen := 0
			for _, w := range v.Workloads {
				expected, ok := want[w.Component]
				if !ok {
					continue
				}
				seen++
				var got []string
				for _, e := range w.Env {
					if strings.HasPrefix(e.Name, "AIRFLOW_CONN_") {
						got = append(got, e.Name)
					}
				}
				sort.Strings(got)
				if !reflect.DeepEqual(got, expected) {
					t.Errorf("%s reads connections %v, want %v", w.Name, got, expected)
				}
			}
			if seen != 3 {
				t.Fatalf("checked %d workloads, want the api-server, the scheduler and a worker", seen)
			}
		})
	}
}
