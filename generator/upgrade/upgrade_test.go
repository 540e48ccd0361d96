package upgrade

import (
	"strings"
	"testing"

	"github.com/airkube/airkube/generator/apis/v1alpha1"
)

func release(version string, mutate func(*v1alpha1.AirflowRelease)) *v1alpha1.AirflowRelease {
	r := &v1alpha1.AirflowRelease{
		Metadata: v1alpha1.Metadata{Name: "wx", Namespace: "airflow"},
		Airflow:  v1alpha1.Airflow{Version: version},
		Executor: "CeleryExecutor",
		Database: v1alpha1.Database{Type: "postgres", Host: "pg", Name: "airflow", User: "airflow", PasswordSecret: &v1alpha1.SecretKey{Name: "db", Key: "password"}},
		Broker:   &v1alpha1.Broker{Redis: &v1alpha1.Redis{}},
	}
	if mutate != nil {
		mutate(r)
	}
	v1alpha1.SetDefaults(r)
	return r
}

func text(notes []Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	cfg := func(r *v1alpha1.AirflowRelease) {
		r.Airflow.Config = map[string]map[string]string{"webserver": {"web_server_port": "8080"}, "core": {"parallelism": "64"}}
		r.Executor = "CeleryKubernetesExecutor"
	}
	for _, tc := range []struct {
		name     string
		from, to *v1alpha1.AirflowRelease
		want     []string
		not      []string
		errors   int
	}{
		{"2.11 to 3.3", release("2.11.2", cfg), release("3.3.2", nil), []string{
			"change: the webserver becomes the api-server: Deployment and Service wx-webserver",
			"change: the REST API moves from /api/v1",
			"change: CeleryKubernetesExecutor is gone",
			"change: airflow.config.webserver.web_server_port: Airflow 3.3 renamed it api.port",
			"info: XCom moves from binary to JSON",
			"change: logins: Airflow 3's SimpleAuthManager has no users",
			"database.migration.timeout (1h)",
		}, []string{"core.parallelism"}, 0},
		{"2.11 to 3.3 with FAB", release("2.11.2", func(r *v1alpha1.AirflowRelease) {
			r.Auth.WebserverConfig = &v1alpha1.ConfigMapKey{Name: "ws", Key: "webserver_config.py"}
		}), release("3.3.2", func(r *v1alpha1.AirflowRelease) {
			r.Auth.Manager = v1alpha1.AuthFAB
			r.Auth.WebserverConfig = &v1alpha1.ConfigMapKey{Name: "ws", Key: "webserver_config.py"}
		}), []string{
			"info: logins: FAB stays (auth.manager fab)",
			"change: auth.webserverConfig reaches the api-server as fab.config_file",
		}, []string{"SimpleAuthManager", "set auth.manager: fab to keep it"}, 0},
		{"2.11 with webserverConfig to 3.3 without", release("2.11.2", func(r *v1alpha1.AirflowRelease) {
			r.Auth.WebserverConfig = &v1alpha1.ConfigMapKey{Name: "ws", Key: "webserver_config.py"}
		}), release("3.3.2", nil), []string{"set auth.manager: fab to keep it", "auth.manager: fab keeps them"}, []string{"FAB stays"}, 0},
		{"3.2 to 3.3", release("3.2.2", nil), release("3.3.2", nil), []string{"info: Airflow 3.2.2 to 3.3.2: the migration Job"}, []string{"webserver", "XCom"}, 0},
		{"3.3 to 2.11", release("3.3.2", nil), release("2.11.2", nil), []string{"error: Airflow 3.3.2 to 2.11.2 is a downgrade", "airflow db downgrade --to-version 2.11.2"}, nil, 1},
		{"3.3 to 3.2", release("3.3.2", nil), release("3.2.2", nil), []string{"error: Airflow 3.3.2 to 3.2.2 is a downgrade"}, nil, 1},
		{"a patch back", release("3.3.2", nil), release("3.3.1", nil), []string{"info: Airflow 3.3.2 to 3.3.1"}, nil, 0},
		{"same version, new image", release("3.3.2", nil), release("3.3.2", func(r *v1alpha1.AirflowRelease) { r.Airflow.Image = "reg/airflow:3.3.2-1" }), []string{"the image changes from apache/airflow:3.3.2 to reg/airflow:3.3.2-1"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notes, err := Check(tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			got := text(notes)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in:\n%s", n, got)
				}
			}
			errors := 0
			for i, n := range notes {
				if n.Severity == Error {
					errors++
				}
				if i > 0 && notes[i-1].Severity > n.Severity {
					t.Errorf("notes not ordered by severity:\n%s", got)
				}
			}
			if errors != tc.errors {
				t.Errorf("%d errors, want %d:\n%s", errors, tc.errors, got)
			}
		})
	}
}
