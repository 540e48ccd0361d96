package model

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/airkube/airkube/generator/airflowcfg"
	"github.com/airkube/airkube/generator/apis/v1alpha1"
	"github.com/airkube/airkube/generator/load"
	"github.com/airkube/airkube/generator/validate"
)

// build loads, defaults and validates a spec of the given version and executor, then builds it.
func build(t *testing.T, version, executor, extra string) *Values {
	t.Helper()
	spec := fmt.Sprintf(`apiVersion: airkube/v1alpha1
kind: AirflowRelease
metadata: {name: obs, namespace: weather}
airflow: {version: %q}
executor: %s
database: {type: postgres, host: pg, name: airflow, user: airflow, passwordSecret: {name: db, key: password}}
%s`, version, executor, extra)
	return buildSpec(t, spec)
}

// buildSpec loads, defaults, validates and builds a whole spec.
func buildSpec(t *testing.T, spec string) *Values {
	t.Helper()
	loaded, err := load.Load(load.Input{Name: "spec.yaml", Data: []byte(spec)})
	if err != nil {
		t.Fatal(err)
	}
	v1alpha1.SetDefaults(loaded.Release)
	if err := validate.Validate(loaded.Release, loaded.Index.Locate).Err(); err != nil {
		t.Fatal(err)
	}
	return Build(loaded.Release)
}

// metricsSection is airflow.cfg's [metrics] section.
func metricsSection(v *Values) map[string]string {
	out := map[string]string{}
	in := false
	for _, line := range strings.Split(v.ConfigMaps["obs-config"]["airflow.cfg"], "\n") {
		switch {
		case strings.HasPrefix(line, "["):
			in = line == "[metrics]"
		case in && strings.Contains(line, " = "):
			k, val, _ := strings.Cut(line, " = ")
			out[k] = val
		}
	}
	return out
}

// TestMetricsConfig: every Airflow pod sends plain StatsD to the exporter's Service, with exactly the
// keys validation keeps users off for that version, and nothing without metrics.
func TestMetricsConfig(t *testing.T) {
	for _, version := range []string{"2.11.2", "3.0.6", "3.1.8", "3.2.2", "3.3.2"} {
		t.Run(version, func(t *testing.T) {
			v := build(t, version, "LocalExecutor", "metrics: {statsd: {}}")
			got := metricsSection(v)
			keys, err := airflowcfg.ForVersion(version)
			if err != nil {
				t.Fatal(err)
			}
			var managed, set []string
			for k := range validate.MetricsManaged {
				if keys.Has(k) {
					managed = append(managed, strings.TrimPrefix(k, "metrics."))
				}
			}
			for k := range got {
				set = append(set, k)
			}
			sort.Strings(managed)
			sort.Strings(set)
			if d := cmp.Diff(managed, set); d != "" {
				t.Errorf("[metrics] keys differ from validate.MetricsManaged for %s (-managed +set):\n%s", version, d)
			}
			var svc *Service
			for _, w := range v.Workloads {
				if w.Component == "statsd" {
					svc = w.Service
				}
			}
			if svc == nil {
				t.Fatal("no statsd workload with a Service")
			}
			want := map[string]string{"statsd_on": "True", "statsd_host": svc.Name + ".weather", "statsd_prefix": "airflow",
				"statsd_port": fmt.Sprint(svc.Ports[0].Port)}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %q, want %q", k, got[k], w)
				}
			}
			if svc.Ports[0].Protocol != "UDP" {
				t.Errorf("the Service's StatsD port is %s, want UDP", svc.Ports[0].Protocol)
			}
			if len(metricsSection(build(t, version, "LocalExecutor", ""))) != 0 {
				t.Error("a release without metrics has a [metrics] section")
			}
		})
	}
}

// mapping is one rule of the exporter's mapping file.
type mapping struct {
	Match     string            `json:"match"`
	MatchType string            `json:"match_type"`
	Name      string            `json:"name"`
	Action    string            `json:"action"`
	Labels    map[string]string `json:"labels"`
}

func mappings(t *testing.T, v *Values) []mapping {
	t.Helper()
	var file struct {
		Mappings []mapping `json:"mappings"`
	}
	if err := yaml.UnmarshalStrict([]byte(v.ConfigMaps["obs-statsd"][StatsDMappingFile]), &file); err != nil {
		t.Fatal(err)
	}
	return file.Mappings
}

var (
	promName  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	promLabel = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	capture   = regexp.MustCompile(`\$\{?(\d+)\}?`)
)

// TestStatsDMapping checks what the exporter would only find at run time, or never: the glob that is
// the start of another comes first (the exporter gives a glob a result only at a matcher state it
// creates; a later one silently never matches), no match twice, regexes compile, every $n names a
// capture, and names and labels are valid for Prometheus.
func TestStatsDMapping(t *testing.T) {
	for _, tc := range []struct{ version, executor string }{{"3.3.2", "LocalExecutor"}, {"2.11.2", "LocalExecutor"}} {
		rules := mappings(t, build(t, tc.version, tc.executor, "metrics: {statsd: {}}"))
		if len(rules) < 40 {
			t.Fatalf("%s: %d rules, want the whole mapping", tc.version, len(rules))
		}
		seen := map[string]bool{}
		for i, r := range rules {
			where := fmt.Sprintf("%s: rule %d (%s)", tc.version, i, r.Match)
			if seen[r.Match] {
				t.Errorf("%s: matched twice", where)
			}
			seen[r.Match] = true
			captures := 0
			switch r.MatchType {
			case "":
				captures = strings.Count(r.Match, "*")
				for _, earlier := range rules[:i] {
					if earlier.MatchType == "" && strings.HasPrefix(earlier.Match, r.Match+".") {
						t.Errorf("%s: starts %s, an earlier glob, so it never matches; move it before", where, earlier.Match)
					}
				}
			case "regex":
				re, err := regexp.Compile(r.Match)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				captures = re.NumSubexp()
			default:
				t.Errorf("%s: match_type %q", where, r.MatchType)
			}
			values := []string{r.Name}
			for l, val := range r.Labels {
				if !promLabel.MatchString(l) {
					t.Errorf("%s: label %q is not a Prometheus label name", where, l)
				}
				values = append(values, val)
			}
			for _, val := range values {
				for _, m := range capture.FindAllStringSubmatch(val, -1) {
					if n := m[1]; n == "0" || len(n) > 1 || int(n[0]-'0') > captures {
						t.Errorf("%s: %s refers to capture %s of %d", where, val, n, captures)
					}
				}
			}
			if name := capture.ReplaceAllString(r.Name, "x"); !promName.MatchString(name) {
				t.Errorf("%s: name %q is not a Prometheus metric name", where, r.Name)
			}
			if r.Action != "" && r.Action != "drop" {
				t.Errorf("%s: action %q", where, r.Action)
			}
		}
	}
}

// TestStatsDExecutorRule: executor metrics without the executor's name get the release's executor
// where Airflow sends only those (one executor, no legacy names), and are dropped where they
// duplicate named ones.
func TestStatsDExecutorRule(t *testing.T) {
	for _, tc := range []struct {
		version, executor string
		want              mapping
	}{
		{"2.11.2", "LocalExecutor", mapping{Match: "airflow.executor.*", Name: "airflow_executor_${1}", Labels: map[string]string{"executor": "LocalExecutor"}}},
		{"2.11.2", "CeleryKubernetesExecutor", mapping{Match: "airflow.executor.*", Name: "airflow_executor_${1}", Labels: map[string]string{"executor": "CeleryKubernetesExecutor"}}},
		{"3.1.8", "KubernetesExecutor", mapping{Match: "airflow.executor.*", Name: "airflow_executor_${1}", Labels: map[string]string{"executor": "KubernetesExecutor"}}},
		{"2.11.2", "KubeX:wx.executors.KubeExecutor", mapping{Match: "airflow.executor.*", Name: "airflow_executor_${1}", Labels: map[string]string{"executor": "KubeExecutor"}}},
		{"2.11.2", "LocalExecutor,KubernetesExecutor", mapping{Match: "airflow.executor.*", Name: "dropped", Action: "drop"}},
		{"3.3.2", "LocalExecutor", mapping{Match: "airflow.executor.*", Name: "dropped", Action: "drop"}},
	} {
		extra := "metrics: {statsd: {}}"
		if strings.Contains(tc.executor, "Celery") {
			extra += "\nbroker: {redis: {}}"
		}
		var got []mapping
		for _, r := range mappings(t, build(t, tc.version, tc.executor, extra)) {
			if r.Match == tc.want.Match {
				got = append(got, r)
			}
		}
		if d := cmp.Diff([]mapping{tc.want}, got); d != "" {
			t.Errorf("%s %s: rule for executor metrics without a name (-want +got):\n%s", tc.version, tc.executor, d)
		}
	}
}

// TestStatsDImagePinned: the default exporter image is the version the real-Airflow test builds.
func TestStatsDImagePinned(t *testing.T) {
	data, err := os.ReadFile("../../hack/tools/versions.env")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^STATSD_EXPORTER_VERSION=(\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("hack/tools/versions.env has no STATSD_EXPORTER_VERSION")
	}
	if _, tag, _ := strings.Cut(v1alpha1.DefaultStatsDImage, ":"); tag != string(m[1]) {
		t.Errorf("DefaultStatsDImage %s, but the tests build statsd_exporter %s", v1alpha1.DefaultStatsDImage, m[1])
	}
}
