package model

import (
	"strings"
	"testing"

	"github.com/airkube/airkube/generator/airflowcfg"
)

// cfgSection is one section of a built release's airflow.cfg.
func cfgSection(v *Values, section string) map[string]string {
	out := map[string]string{}
	in := false
	for _, line := range strings.Split(v.ConfigMaps["obs-config"]["airflow.cfg"], "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			in = line == "["+section+"]"
		case in && strings.Contains(line, " = "):
			k, val, _ := strings.Cut(line, " = ")
			out[k] = val
		}
	}
	return out
}

// TestCfgDefaults: every version gets airkube's defaults (recovery, new DAGs) under the key its Airflow reads (the
// heartbeat timeout was renamed in 3.0), and a key the user sets in airflow.config wins over airkube's.
func TestCfgDefaults(t *testing.T) {
	for _, version := range []string{"2.11.2", "3.0.6", "3.3.2"} {
		t.Run(version, func(t *testing.T) {
			keys, err := airflowcfg.ForVersion(version)
			if err != nil {
				t.Fatal(err)
			}
			r := &release{major: int(version[0] - '0')}
			defaults := r.cfgDefaults()
			if len(defaults) == 0 {
				t.Fatal("no defaults")
			}
			v := build(t, version, "LocalExecutor", "")
			for _, d := range defaults {
				if !keys.Has(d.section + "." + d.key) {
					t.Errorf("%s.%s is not a key of Airflow %s", d.section, d.key, version)
				}
				if got := cfgSection(v, d.section)[d.key]; got != d.value {
					t.Errorf("%s.%s = %q, want airkube's %q", d.section, d.key, got, d.value)
				}
			}
			user := buildSpec(t, `apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: obs, namespace: weather}
airflow: {version: "`+version+`", config: {core: {default_task_retries: "0", default_task_retry_delay: "600"}}}
executor: LocalExecutor
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
`)
			if core := cfgSection(user, "core"); core["default_task_retries"] != "0" || core["default_task_retry_delay"] != "600" {
				t.Errorf("the user's own retries lost to airkube's defaults: %v", core)
			}
		})
	}
}
